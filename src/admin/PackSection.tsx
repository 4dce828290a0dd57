/**
 * The dashboard's "Species packs" section (GET /v1/admin/monitoring/packs):
 * per pack, a chart of daily runs by version and one of the correction rate
 * by version with its 95% interval, then a table of every pack version over
 * the period. Says so when no identification ran a pack.
 */
import { useEffect, useState } from 'react';
import { type ChartOptions } from 'chart.js';
import { Line } from 'react-chartjs-2';
import { adminFetch, AdminError, type PackMetricsResponse } from './api.ts';
import { ChartBox, COLORS, options, pct } from './charts.tsx';

export default function PackSection({ days, onUnauthorized }: { days: number; onUnauthorized: () => void }) {
  const [report, setReport] = useState<PackMetricsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    adminFetch<PackMetricsResponse>(`/v1/admin/monitoring/packs?days=${days}`)
      .then(setReport)
      .catch((err) => (err instanceof AdminError && err.status === 401 ? onUnauthorized() : setError((err as Error).message)));
  }, [days, onUnauthorized]);
  if (error)
    return (
      <p role="alert" className="error">
        Species packs: {error}
      </p>
    );
  if (!report) return <p>Loading species packs…</p>;
  const packs = [...new Set(report.series.map((s) => s.packId))].sort();
  return (
    <section data-testid="packs-section">
      <h3>Species packs</h3>
      {packs.length === 0 ? (
        <p data-testid="packs-empty">
          No identification ran a species pack from {report.from} to {report.to}.
        </p>
      ) : (
        <>
          <p className="hint">
            Runs are identifications that ran the pack. Rates weigh each install per day (at most 50 runs count in full); the correction rate counts corrections of a day&apos;s runs, with its Wilson
            95% interval dashed.
          </p>
          <div className="charts">
            {packs.map((id) => (
              <PackCharts key={id} packId={id} report={report} />
            ))}
          </div>
          <table className="admin-table" data-testid="packs-table">
            <thead>
              <tr>
                <th>Pack</th>
                <th>Version</th>
                <th className="num">Runs</th>
                <th className="num">Tapped</th>
                <th className="num">Mean / median confidence</th>
                <th className="num">Corrected (95% interval)</th>
                <th>Top labels</th>
              </tr>
            </thead>
            <tbody>
              {report.versions.map((v) => (
                <tr key={`${v.packId}@${v.packVersion}`} data-testid="pack-row">
                  <td>{v.packId}</td>
                  <td>{v.packVersion}</td>
                  <td className="num">{v.runs}</td>
                  <td className="num">{pct(v.tappedShare)}</td>
                  <td className="num">
                    {v.meanConfidence.toFixed(2)} / {v.medianConfidence.toFixed(2)}
                  </td>
                  <td className="num">
                    {pct(v.correctionRate)} ({pct(v.correctionInterval.lo)}–{pct(v.correctionInterval.hi)})
                  </td>
                  <td>{v.topLabels.map((l) => `${l.taxonId} (${Math.round(l.count * 100) / 100})`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function PackCharts({ packId, report }: { packId: string; report: PackMetricsResponse }) {
  const series = report.series.filter((s) => s.packId === packId);
  const versions = [...new Set(series.map((s) => s.packVersion))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const labels = [...new Set(series.map((s) => s.day))].sort();
  const at = (v: string, day: string) => series.find((s) => s.packVersion === v && s.day === day);
  const color = (i: number) => COLORS[i % COLORS.length];
  const runs = { labels, datasets: versions.map((v, i) => ({ label: `v${v}`, data: labels.map((d) => at(v, d)?.runs ?? 0), borderColor: color(i), backgroundColor: color(i), tension: 0.2 })) };
  const line = (v: string, i: number, label: string, f: (s: NonNullable<ReturnType<typeof at>>) => number, dash?: number[]) => ({
    label,
    data: labels.map((d) => {
      const s = at(v, d);
      return s ? f(s) : null;
    }),
    borderColor: color(i),
    backgroundColor: color(i),
    borderDash: dash,
    borderWidth: dash ? 1 : 2,
    pointRadius: dash ? 0 : 3,
    spanGaps: true,
  });
  const corrections = {
    labels,
    datasets: versions.flatMap((v, i) => [
      line(v, i, `corrected v${v}`, (s) => s.correctionRate),
      line(v, i, `95% low v${v}`, (s) => s.correctionInterval.lo, [4, 3]),
      line(v, i, `95% high v${v}`, (s) => s.correctionInterval.hi, [4, 3]),
    ]),
  };
  return (
    <>
      <ChartBox id={`pack-runs-${packId}`} title={`${packId}: runs per day by version`}>
        <Line data={runs} options={options('runs') as ChartOptions<'line'>} />
      </ChartBox>
      <ChartBox id={`pack-corrections-${packId}`} title={`${packId}: correction rate by version (95% interval dashed)`}>
        <Line data={corrections} options={options('share of runs', { scales: { y: { beginAtZero: true, ticks: { callback: (v) => pct(Number(v)) } } } }) as ChartOptions<'line'>} />
      </ChartBox>
    </>
  );
}
