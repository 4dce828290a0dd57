import { useDeleteAll, useHistoryList } from './useHistory.ts';
import { Thumbnail } from './Thumbnail.tsx';
import { photosOf } from '../storage/db.ts';

const when = (t: number) => new Date(t).toLocaleString();

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
              <li key={r.id} data-testid="history-item" data-taxon={r.abstain ? 'other' : r.top5[0]?.taxonId} data-photos={photosOf(r).length}>
                <a href={`#/history/${encodeURIComponent(r.id)}`}>
                  <Thumbnail blob={r.thumbnail} alt="" className="thumb" />
                  <span className="history-text">
                    <strong>{r.abstain ? 'Not one of our species' : r.top5[0]?.commonName}</strong>
                    <span className="hint">
                      {r.name}
                      {photosOf(r).length > 1 ? ` and ${photosOf(r).length - 1} more photo${photosOf(r).length > 2 ? 's' : ''}` : ''} · {when(r.createdAt)} · model {r.version}
                      {r.correction ? ` · ${r.correction.verdict}` : ''}
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
