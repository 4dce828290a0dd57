import { photosOf, type HistoryRecord } from '../storage/db.ts';
import { Thumbnail } from '../history/Thumbnail.tsx';

const pct = (p: number) => `${(p * 100).toFixed(0)}%`;

/** Each photo of an observation with its own answer, under the one fused answer. */
export function ObservationPhotos({ record }: { record: HistoryRecord }) {
  const photos = photosOf(record);
  if (photos.length < 2) return null;
  return (
    <section className="observation-photos" aria-label="Each photo's own answer" data-testid="observation-photos">
      <h4>From {photos.length} photos; each photo alone said:</h4>
      <ol>
        {photos.map((p) => (
          <li key={p.id} data-testid="observation-photo" data-taxon={p.abstain ? 'other' : p.top5[0]?.taxonId}>
            <Thumbnail blob={p.thumbnail} alt={`Photo ${p.name}`} className="thumb" />
            <span>
              <strong>{p.name}</strong>: {p.abstain ? 'not one of our species' : `${p.top5[0]?.commonName} (${pct(p.top5[0]?.probability ?? 0)})`}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
