/** Charts over the admin monitoring API: volume, rates, confidence, drift, latency, and model versions side by side. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { type ChartOptions } from 'chart.js';
import { Bar, Line } from 'react-chartjs-2';
import { adminFetch, AdminError, type DriftResponse, type MetricsResponse, type QualityResponse } from './api.ts';
import ShadowResults from './ShadowResults.tsx';
import PackSection from './PackSection.tsx';
import { ChartBox, COLORS, options, pct } from './charts.tsx';

const fixed = (x: number, d = 3) => x.toFixed(d);

export default function Dashboard({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [days, setDays] = useState(30);
  const [metrics, setMetrics] = useState<MetricsResponse | null>(null);
  const [drift, setDrift] = useState<DriftResponse | null>(null);
  const [quality, setQuality] = useState<QualityResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState<string | null>(null);

  const load = useCallback(async () => {
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    try {
      setError(null);
      const [m, d, q] = await Promise.all([
        adminFetch<MetricsResponse>(`/v1/admin/monitoring/metrics?from=${from}&to=${to}&bucket=day`),
        adminFetch<DriftResponse>(`/v1/admin/monitoring/drift?from=${from}&to=${to}`),
        adminFetch<QualityResponse>(`/v1/admin/monitoring/quality?from=${from}&to=${to}`),
      ]);
      setMetrics(m);
      setDrift(d);
      setQuality(q);
    } catch (err) {
      if (err instanceof AdminError && err.status === 401) onUnauthorized();
      else setError((err as Error).message);
    }
  }, [days, onUnauthorized]);
  useEffect(() => {
    void load();
  }, [load]);

  const versions = useMemo(() => [...new Set(metrics?.series.map((s) => s.modelVersion) ?? [])].sort().reverse(), [metrics]);
  const dayLabels = useMemo(() => [...new Set(metrics?.series.map((s) => s.bucket) ?? [])].sort(), [metrics]);
  const selected = version ?? versions[0] ?? null;

  if (error)
    return (
      <p role="alert" data-testid="dashboard-error">
        {error}
      </p>
    );
  if (!metrics || !drift || !quality) return <p>Loading…</p>;
  if (!metrics.series.length) return <p data-testid="dashboard-empty">No identifications in the last {days} days.</p>;

  const at = (v: string, day: string) => metrics.series.find((s) => s.modelVersion === v && s.bucket === day);
  const perVersion = (f: (v: string, day: string) => number | null, label: (v: string) => string, offset = 0, dash?: number[]) =>
    versions.map((v, i) => ({
      label: label(v),
      data: dayLabels.map((d) => f(v, d)),
      borderColor: COLORS[(i + offset) % COLORS.length],
      backgroundColor: COLORS[(i + offset) % COLORS.length],
      borderDash: dash,
      tension: 0.2,
      spanGaps: true,
    }));

  const identifications = {
    labels: dayLabels,
    datasets: perVersion(
      (v, d) => at(v, d)?.identifications ?? 0,
      (v) => `v${v}`,
    ),
  };
  const rates = {
    labels: dayLabels,
    datasets: [
      ...perVersion(
        (v, d) => at(v, d)?.abstainRate ?? null,
        (v) => `abstain v${v}`,
      ),
      ...perVersion(
        (v, d) => at(v, d)?.correctionRate ?? null,
        (v) => `corrected v${v}`,
        2,
        [6, 4],
      ),
    ],
  };
  const binLabels = Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`);
  const confidence = {
    labels: binLabels,
    datasets: metrics.versions.map((v, i) => {
      const total = v.confidenceHistogram.reduce((a, b) => a + b, 0) || 1;
      return { label: `v${v.modelVersion}`, data: v.confidenceHistogram.map((c) => c / total), backgroundColor: COLORS[i % COLORS.length] };
    }),
  };
  const backends = [...new Set(metrics.versions.flatMap((v) => Object.keys(v.latency)))].sort();
  const latency = {
    labels: backends,
    datasets: metrics.versions.flatMap((v, i) =>
      (['p50', 'p95'] as const).map((q) => ({
        label: `${q} v${v.modelVersion}`,
        data: backends.map((b) => v.latency[b]?.[q] ?? 0),
        backgroundColor: COLORS[i % COLORS.length] + (q === 'p50' ? '' : '88'),
      })),
    ),
  };

  const points = drift.points.filter((p) => p.modelVersion === selected);
  const driftDays = points.map((p) => p.day);
  const t = drift.thresholds;
  const levelColor = (l: string) => (l === 'alert' ? '#c00000' : l === 'warn' ? '#e0a526' : '#2f6b3a');
  const driftData = {
    labels: driftDays,
    datasets: [
      { label: 'PSI predictions', data: points.map((p) => p.prediction.psi), borderColor: COLORS[0], backgroundColor: points.map((p) => levelColor(p.prediction.level)), pointRadius: 5 },
      { label: 'JS predictions', data: points.map((p) => p.prediction.js), borderColor: COLORS[2], backgroundColor: points.map((p) => levelColor(p.prediction.level)), pointRadius: 5 },
      {
        label: 'PSI confidence',
        data: points.map((p) => p.confidence.psi),
        borderColor: COLORS[1],
        backgroundColor: points.map((p) => levelColor(p.confidence.level)),
        pointRadius: 5,
        borderDash: [6, 4],
      },
      {
        label: 'JS confidence',
        data: points.map((p) => p.confidence.js),
        borderColor: COLORS[3],
        backgroundColor: points.map((p) => levelColor(p.confidence.level)),
        pointRadius: 5,
        borderDash: [6, 4],
      },
      { label: `PSI alert ${t.psiAlert}`, data: points.map(() => t.psiAlert), borderColor: '#c00000', borderDash: [2, 2], pointRadius: 0, borderWidth: 1 },
      { label: `JS alert ${t.jsAlert}`, data: points.map(() => t.jsAlert), borderColor: '#ff7b7b', borderDash: [2, 2], pointRadius: 0, borderWidth: 1 },
      { label: `PSI warn ${t.psiWarn}`, data: points.map(() => t.psiWarn), borderColor: '#e0a526', borderDash: [2, 2], pointRadius: 0, borderWidth: 1 },
    ],
  };
  const ref = selected ? drift.references[selected] : undefined;
  const alerts = drift.alerts.filter((a) => a.day >= drift.from);

  return (
    <div className="dashboard" data-testid="dashboard">
      <div className="drift-controls">
        <label>
          Period{' '}
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[7, 14, 30, 90].map((d) => (
              <option key={d} value={d}>
                last {d} days
              </option>
            ))}
          </select>
        </label>
        <label>
          Drift of version{' '}
          <select value={selected ?? ''} onChange={(e) => setVersion(e.target.value)} data-testid="drift-version">
            {versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <button className="secondary" onClick={() => void load()}>
          Refresh
        </button>
        <span data-testid="alert-count" className={alerts.some((a) => a.level === 'alert') ? 'level-alert' : ''}>
          {alerts.filter((a) => a.level === 'alert').length} alert(s), {alerts.filter((a) => a.level === 'warn').length} warning(s)
        </span>
      </div>

      <div className="charts">
        <ChartBox id="identifications" title="Identifications per day">
          <Line data={identifications} options={options('identifications') as ChartOptions<'line'>} />
        </ChartBox>
        <ChartBox id="rates" title="Abstain (“not one of our species”) and correction rates">
          <Line data={rates} options={options('share of identifications', { scales: { y: { beginAtZero: true, ticks: { callback: (v) => pct(Number(v)) } } } }) as ChartOptions<'line'>} />
        </ChartBox>
        <ChartBox id="confidence" title="Top-1 confidence histogram (share per bin)">
          <Bar data={confidence} options={options('share') as ChartOptions<'bar'>} />
        </ChartBox>
        <ChartBox id="drift" title={`Drift of v${selected} against its reference (${ref ? `${ref.from} … ${ref.to}` : 'none'})`}>
          <Line data={driftData} options={options('PSI / JS distance') as ChartOptions<'line'>} />
        </ChartBox>
        <ChartBox id="latency" title="Latency per backend (ms, p50 and p95)">
          <Bar data={latency} options={options('ms') as ChartOptions<'bar'>} />
        </ChartBox>
      </div>

      <h3>Model versions side by side</h3>
      <table className="admin-table" data-testid="versions-table">
        <thead>
          <tr>
            <th>Version</th>
            <th className="num">Identifications</th>
            <th className="num">Abstain</th>
            <th className="num">Corrected</th>
            <th className="num">Confirmed</th>
            {backends.map((b) => (
              <th key={b} className="num">
                {b} p50 / p95 ms
              </th>
            ))}
            <th>Top predictions</th>
          </tr>
        </thead>
        <tbody>
          {metrics.versions.map((v) => (
            <tr key={v.modelVersion}>
              <td>{v.modelVersion}</td>
              <td className="num">{v.identifications}</td>
              <td className="num">{pct(v.abstainRate)}</td>
              <td className="num">{pct(v.correctionRate)}</td>
              <td className="num">{v.confirmations}</td>
              {backends.map((b) => (
                <td key={b} className="num">
                  {v.latency[b] ? `${Math.round(v.latency[b].p50)} / ${Math.round(v.latency[b].p95)}` : '–'}
                </td>
              ))}
              <td>
                {v.predictions
                  .slice(0, 3)
                  .map((p) => `${p.taxonId} (${p.count})`)
                  .join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <ShadowResults onUnauthorized={onUnauthorized} />

      <PackSection days={days} onUnauthorized={onUnauthorized} />

      <h3>Drift alerts</h3>
      <p className="hint">
        Thresholds: PSI warn {t.psiWarn}, alert {t.psiAlert}; JS distance warn {t.jsWarn}, alert {t.jsAlert}. Days with fewer than {drift.minEvents} identifications are not scored.
      </p>
      {alerts.length === 0 ? (
        <p data-testid="no-alerts">No drift alerts.</p>
      ) : (
        <table className="admin-table" data-testid="alerts-table">
          <thead>
            <tr>
              <th>Day</th>
              <th>Version</th>
              <th>Metric</th>
              <th className="num">PSI</th>
              <th className="num">JS</th>
              <th>Level</th>
              <th className="num">n</th>
              <th>Reference</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={`${a.modelVersion}-${a.day}-${a.metric}`} data-testid="alert-row" data-level={a.level}>
                <td>{a.day}</td>
                <td>{a.modelVersion}</td>
                <td>{a.metric}</td>
                <td className="num">{fixed(a.psi)}</td>
                <td className="num">{fixed(a.js)}</td>
                <td className={`level-${a.level}`}>{a.level}</td>
                <td className="num">{a.n}</td>
                <td>
                  {a.reference.from} … {a.reference.to}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Most-corrected pairs</h3>
      <table className="admin-table" data-testid="pairs-table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Model said</th>
            <th>Corrected to</th>
            <th className="num">Count</th>
          </tr>
        </thead>
        <tbody>
          {metrics.correctedPairs.map((p) => (
            <tr key={`${p.modelVersion}-${p.predicted}-${p.corrected}`}>
              <td>{p.modelVersion}</td>
              <td>{p.predicted}</td>
              <td>{p.corrected}</td>
              <td className="num">{p.count}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Data quality per day</h3>
      <p className="hint">Error rate: {quality.errorRateDefinition}. Duplicates are resent events dropped at insert.</p>
      <table className="admin-table" data-testid="quality-table">
        <thead>
          <tr>
            <th>Day</th>
            <th className="num">Stored</th>
            <th className="num">Duplicates</th>
            <th className="num">Refused</th>
            <th className="num">Error rate</th>
            <th>Refused by reason</th>
            <th className="num">Conflicting labels</th>
            <th className="num">Proposed names</th>
          </tr>
        </thead>
        <tbody>
          {quality.days.map((d) => (
            <tr key={d.day}>
              <td>{d.day}</td>
              <td className="num">{d.stored}</td>
              <td className="num">{d.duplicates}</td>
              <td className="num">{d.rejectedTotal}</td>
              <td className="num">{pct(d.errorRate)}</td>
              <td>
                {Object.entries(d.rejected)
                  .map(([r, n]) => `${r}: ${n}`)
                  .join(', ')}
              </td>
              <td className="num">{d.conflictingLabels}</td>
              <td className="num">{d.proposedNames}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
