/** Corrections awaiting review: accept or reject each (only accepted ones reach retraining). */
import { useCallback, useEffect, useState } from 'react';
import { adminFetch, AdminError, type AutoAcceptReply, type ReviewItem, type ReviewQueueReply } from './api.ts';

type Status = ReviewItem['status'];

export function ReviewQueue({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [status, setStatus] = useState<Status>('pending');
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const fail = useCallback(
    (err: unknown) => {
      if (err instanceof AdminError && err.status === 401) onUnauthorized();
      else setError((err as Error).message);
    },
    [onUnauthorized],
  );

  const load = useCallback(async () => {
    try {
      setError(null);
      setItems((await adminFetch<ReviewQueueReply>(`/v1/admin/review?status=${status}&limit=200`)).items);
    } catch (err) {
      fail(err);
    }
  }, [status, fail]);
  useEffect(() => {
    void load();
  }, [load]);

  async function decide(item: ReviewItem, decision: 'accept' | 'reject') {
    try {
      await adminFetch(`/v1/admin/review/${item.eventId}`, { method: 'POST', body: { decision } });
      setNote(`${decision === 'accept' ? 'Accepted' : 'Rejected'}: ${describe(item)}`);
      setItems((list) => list?.filter((i) => i.eventId !== item.eventId) ?? null);
    } catch (err) {
      fail(err);
    }
  }

  async function autoAccept() {
    try {
      const { accepted } = await adminFetch<AutoAcceptReply>('/v1/admin/review/auto-accept', { method: 'POST' });
      setNote(`The two-installs rule accepted ${accepted.length} correction${accepted.length === 1 ? '' : 's'}.`);
      await load();
    } catch (err) {
      fail(err);
    }
  }

  return (
    <div className="review" data-testid="review-queue">
      <div className="review-bar">
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)} data-testid="review-status">
            <option value="pending">pending</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <button className="secondary" onClick={() => void load()}>
          Refresh
        </button>
        <button className="secondary" onClick={() => void autoAccept()} title="Accept pending corrections that two or more installs agree on">
          Apply two-installs rule
        </button>
      </div>
      <p className="hint">
        A correction is accepted automatically when two or more different installs agree: the same proposed name (normalized), or the same confusion (the model's answer and the corrected taxon). Only
        accepted corrections train the next model; an accepted proposed name joins the species list.
      </p>
      {note && (
        <p role="status" data-testid="review-note">
          {note}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p data-testid="review-empty">Nothing {status}.</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Model said</th>
              <th>User says</th>
              <th>Version</th>
              <th>Installs agreeing</th>
              <th>Conflicts</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.eventId} data-testid="review-item" data-event-id={i.eventId}>
                <td>{i.hour.slice(0, 13).replace('T', ' ')}h</td>
                <td>
                  {i.predicted ?? '?'}
                  {i.confidence !== null ? ` (${Math.round(i.confidence * 100)}%)` : ''}
                </td>
                <td>
                  {i.verdict === 'confirmed' ? (
                    <>✓ {i.taxonId}</>
                  ) : i.proposedName ? (
                    <>
                      <span className="tag">new</span> “{i.proposedName}”
                    </>
                  ) : (
                    i.taxonId
                  )}
                </td>
                <td>{i.modelVersion}</td>
                <td>{i.installs}</td>
                <td>{i.conflicts || ''}</td>
                <td className="decide">
                  {i.status !== 'accepted' && (
                    <button onClick={() => void decide(i, 'accept')} data-testid="review-accept">
                      Accept
                    </button>
                  )}
                  {i.status !== 'rejected' && (
                    <button className="danger" onClick={() => void decide(i, 'reject')} data-testid="review-reject">
                      Reject
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const describe = (i: ReviewItem) => (i.proposedName ? `“${i.proposedName}”` : (i.taxonId ?? ''));
