import { useDeleteRecord, useHistoryRecord } from './useHistory.ts';
import { Thumbnail } from './Thumbnail.tsx';
import { ResultCard } from '../identify/ResultCard.tsx';
import { CorrectionPanel } from '../corrections/CorrectionPanel.tsx';
import { ObservationPhotos } from '../observation/ObservationPhotos.tsx';

export function RecordPage({ id }: { id: string }) {
  const record = useHistoryRecord(id);
  const remove = useDeleteRecord();
  if (record.isPending) return <p>Loading…</p>;
  if (!record.data) return <p>This identification is not in the history (it may have been deleted). <a href="#/history">Back to history</a></p>;
  const r = record.data;
  return (
    <section aria-labelledby="record-heading" data-testid="record">
      <p><a href="#/history">← History</a></p>
      <h2 id="record-heading">{r.name}</h2>
      <p className="hint">{new Date(r.createdAt).toLocaleString()} · {r.width} x {r.height} px</p>
      <div className="identify-result">
        <Thumbnail blob={r.thumbnail} alt={`Thumbnail of ${r.name}`} className="photo-preview" />
        <div>
          <ResultCard result={r} />
          <ObservationPhotos record={r} />
          <CorrectionPanel record={r} />
        </div>
      </div>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate(r.id, { onSuccess: () => { location.hash = '#/history'; } })}
      >
        Delete
      </button>
    </section>
  );
}
