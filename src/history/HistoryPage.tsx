import { useDeleteAll, useHistoryList } from './useHistory.ts';
import { Thumbnail } from './Thumbnail.tsx';
import { photosOf, type Correction, type HistoryRecord } from '../storage/db.ts';

const when = (t: number) => new Date(t).toLocaleString();

/** What the user said, by name: a species picked from a pack is named even when its pack is gone (the name was kept with the correction). */
const correctionText = (c: Correction) => (c.verdict === 'confirmed' ? 'confirmed' : `corrected to ${c.proposedName ?? c.label ?? c.taxonId}`);

/** The answer a list item names: the pack's species when a pack answered, else the base answer. */
const answerOf = (r: HistoryRecord) => r.pack?.top5[0]?.commonName ?? (r.abstain ? 'Not one of our species' : r.top5[0]?.commonName);

export function HistoryPage() {
  const list = useHistoryList();
  const deleteAll = useDeleteAll();
  const records = list.data ?? [];
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <p className="hint">Kept on this device only{records.length ? ` · ${records.length} identification${records.length === 1 ? '' : 's'}` : ''}.</p>
      {list.isError && (
        <p role="alert" className="error">
          History could not be read: {list.error.message}
        </p>
      )}
      {list.isSuccess && records.length === 0 && <p data-testid="history-empty">No identifications yet.</p>}
      {records.length > 0 && (
        <>
          <ul className="history" data-testid="history-list">
            {records.map((r) => (
              <li
                key={r.id}
                data-testid="history-item"
                data-taxon={r.abstain ? 'other' : r.top5[0]?.taxonId}
                data-pack-taxon={r.pack?.top5[0]?.taxonId}
                data-corrected-to={r.correction?.verdict === 'corrected' ? (r.correction.taxonId ?? r.correction.proposedName) : undefined}
                data-photos={photosOf(r).length}
              >
                <a href={`#/history/${encodeURIComponent(r.id)}`}>
                  <Thumbnail blob={r.thumbnail} alt="" className="thumb" />
                  <span className="history-text">
                    <strong data-testid="history-answer">{answerOf(r)}</strong>
                    <span className="hint">
                      {r.name}
                      {photosOf(r).length > 1 ? ` and ${photosOf(r).length - 1} more photo${photosOf(r).length > 2 ? 's' : ''}` : ''} · {when(r.createdAt)} · model {r.version}
                      {r.pack ? ` · ${r.pack.packId} pack ${r.pack.packVersion}` : ''}
                      {r.correction ? <span data-testid="history-correction"> · {correctionText(r.correction)}</span> : ''}
                    </span>
                  </span>
                </a>
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="danger"
            disabled={deleteAll.isPending}
            onClick={() => {
              if (confirm(`Delete all ${records.length} identifications from this device?`)) deleteAll.mutate();
            }}
          >
            Delete all
          </button>
        </>
      )}
    </section>
  );
}
