/**
 * Shadow results per candidate (GET /v1/admin/models/shadow-results): how
 * often each candidate failed and disagreed with the answering model when
 * devices ran it unseen, per install, and whether the shadow gate would let
 * it start a canary without an override.
 */
import { useEffect, useState } from 'react';
import { adminFetch, AdminError, type ShadowResultsReply } from './api.ts';

type ShadowRow = ShadowResultsReply['items'][number];

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export default function ShadowResults({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [rows, setRows] = useState<ShadowRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    adminFetch<ShadowResultsReply>('/v1/admin/models/shadow-results')
      .then((r) => setRows(r.items))
      .catch((err) => (err instanceof AdminError && err.status === 401 ? onUnauthorized() : setError((err as Error).message)));
  }, [onUnauthorized]);
  if (error)
    return (
      <p role="alert" className="error">
        Shadow results: {error}
      </p>
    );
  if (!rows) return <p>Loading shadow results…</p>;
  const limits = rows[0]?.limits;
  return (
    <>
      <h3>Shadow results per candidate</h3>
      {limits && (
        <p className="hint">
          A candidate whose shadow failure rate is above {pct(limits.maxFailureRate)} or whose top-1 disagreement is above {pct(limits.maxDisagreementRate)}
          (rates per install, with at least {limits.minRuns} runs on {limits.minInstalls} installs) starts a canary only with an override and a reason.
        </p>
      )}
      <table className="admin-table" data-testid="shadow-table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Status</th>
            <th className="num">Installs</th>
            <th className="num">Runs</th>
            <th className="num">Failed</th>
            <th className="num">Top-1 disagreement</th>
            <th className="num">Top-5 overlap</th>
            <th>Canary</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.version} data-testid="shadow-row" data-version={r.version} data-gate={r.gate.ok ? 'ok' : 'blocked'}>
              <td>
                {r.version}
                {r.shadowing ? ' (shadowing now)' : ''}
              </td>
              <td>{r.status}</td>
              <td className="num">{r.installs}</td>
              <td className="num">{r.runs}</td>
              <td className="num">{r.runs ? pct(r.failureRate) : '–'}</td>
              <td className="num">{r.runs ? pct(r.disagreementRate) : '–'}</td>
              <td className="num">{r.runs ? `${r.meanTop5Overlap.toFixed(1)} of 5` : '–'}</td>
              <td title={r.gate.reason}>{r.gate.ok ? 'may start' : `needs an override: ${r.gate.reason}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
