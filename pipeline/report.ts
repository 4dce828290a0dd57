/**
 * The run's HTML report: the gate's two halves (non-regression on shared
 * labels, new taxa on held-out installs), per-class table, most-confused
 * pairs, reliability diagrams and the corrections-per-taxon curve (inline SVG).
 */
import type { Evaluation } from '../core/classifier-metrics.ts';
import type { GateVerdict } from '../core/retrain-gate.ts';
import type { QualityReport } from './quality.ts';
import type { SharedLabelSummary } from './retrain.ts';

/** One row of `pipeline -- curve`: a training size, new-taxa recall on held-out installs and the effect on shared labels. */
export interface CurveRow {
  pool: string;
  size: number;
  repeats: number;
  taxa: number;
  /** Held-out recall: mean over repeats; interval = Wilson at one split's held-out count; range over repeats. */
  recall: number;
  lo: number;
  hi: number;
  min: number;
  max: number;
  heldOutPerSplit: number;
  /** Shared-label top-1 change (candidate - current): mean over repeats, and the lowest 95% lower bound / highest upper bound among them. */
  launchChange: number;
  launchLo: number;
  launchHi: number;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (x: number) => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);

function reliabilitySvg(e: Evaluation, title: string): string {
  const W = 240,
    H = 240,
    pad = 30;
  const bars = e.reliability
    .filter((b) => b.count)
    .map((b) => {
      const x = pad + b.lo * (W - 2 * pad),
        w = (b.hi - b.lo) * (W - 2 * pad);
      const h = b.accuracy * (H - 2 * pad);
      return `<rect x="${x.toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7ab7"><title>${b.count} photos, confidence ${pct(b.confidence)}, accuracy ${pct(b.accuracy)}</title></rect>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><text x="${W / 2}" y="16" text-anchor="middle" font-size="12">${esc(title)} (ECE ${e.ece.toFixed(4)})</text><rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#999"/>${bars}<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${pad}" stroke="#c33" stroke-dasharray="4"/><text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">confidence</text><text x="10" y="${H / 2}" font-size="10" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">accuracy</text></svg>`;
}

const CURVE_COLORS = ['#4a7ab7', '#c3662b', '#3a9a5b', '#8a4fb0'];

/** Held-out recall against corrections per taxon (log x axis), one line per pool, with its 95% band. */
export function curveSvg(rows: readonly CurveRow[]): string {
  const W = 520,
    H = 280,
    pad = 40;
  const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
  if (!sizes.length) return '';
  const lx = (s: number) => Math.log(s);
  const x0 = lx(sizes[0]),
    x1 = lx(sizes[sizes.length - 1]) || x0 + 1;
  const X = (s: number) => pad + ((lx(s) - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const Y = (v: number) => H - pad - v * (H - 2 * pad);
  const pools = [...new Set(rows.map((r) => r.pool))];
  const series = pools
    .map((pool, i) => {
      const rs = rows.filter((r) => r.pool === pool).sort((a, b) => a.size - b.size);
      const c = CURVE_COLORS[i % CURVE_COLORS.length];
      const band = [
        ...rs.map((r) => `${X(r.size).toFixed(1)},${Y(r.hi).toFixed(1)}`),
        ...rs
          .slice()
          .reverse()
          .map((r) => `${X(r.size).toFixed(1)},${Y(r.lo).toFixed(1)}`),
      ].join(' ');
      const line = rs.map((r) => `${X(r.size).toFixed(1)},${Y(r.recall).toFixed(1)}`).join(' ');
      const dots = rs
        .map(
          (r) =>
            `<circle cx="${X(r.size).toFixed(1)}" cy="${Y(r.recall).toFixed(1)}" r="3" fill="${c}"><title>${esc(pool)}: ${r.size} per taxon, recall ${pct(r.recall)} (95% ${pct(r.lo)}-${pct(r.hi)})</title></circle>`,
        )
        .join('');
      return `<polygon points="${band}" fill="${c}" opacity="0.15"/><polyline points="${line}" fill="none" stroke="${c}" stroke-width="2"/>${dots}<text x="${W - pad + 4}" y="${(pad + 14 * i).toFixed(0)}" font-size="10" fill="${c}">${esc(pool)}</text>`;
    })
    .join('');
  const xTicks = sizes.map((s) => `<text x="${X(s).toFixed(1)}" y="${H - pad + 14}" text-anchor="middle" font-size="10">${s}</text>`).join('');
  const yTicks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (v) =>
        `<text x="${pad - 4}" y="${(Y(v) + 3).toFixed(1)}" text-anchor="end" font-size="10">${v * 100}%</text><line x1="${pad}" x2="${W - pad}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 60}" height="${H}" role="img" aria-label="held-out recall of new taxa by corrections per taxon">${yTicks}<rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#999"/>${series}${xTicks}<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">corrections per new taxon (training installs)</text><text x="12" y="${H / 2}" font-size="11" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">held-out recall</text></svg>`;
}

export function curveTable(rows: readonly CurveRow[]): string {
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
  return `<table><tr><th>pool</th><th>corrections per taxon</th><th>taxa x repeats</th><th>held-out recall (95% CI)</th><th>range over repeats</th><th>shared-label top-1 change, points (95% CI, widest)</th></tr>${rows.map((r) => `<tr><td>${esc(r.pool)}</td><td>${r.size}</td><td>${r.taxa} x ${r.repeats}</td><td>${pct(r.recall)} (${pct(r.lo)}-${pct(r.hi)})</td><td>${pct(r.min)}-${pct(r.max)}</td><td>${sign(r.launchChange)} (${sign(r.launchLo)} to ${sign(r.launchHi)})</td></tr>`).join('')}</table>`;
}

export interface ReportInput {
  runId: string;
  parent: string;
  parentSource: string;
  version: string | null;
  labels: string[];
  names: string[];
  current: Evaluation;
  candidate: Evaluation;
  support: number[];
  verdict: GateVerdict;
  reasons: string[];
  counts: Record<string, number>;
  quality: QualityReport | null;
  temperature: number;
  temperatureSource: string;
  shared: SharedLabelSummary;
  curve?: CurveRow[];
}

export function renderReport(r: ReportInput): string {
  const rows = r.labels
    .map((l, k) => ({ l, k }))
    .filter(({ k }) => r.support[k] || (r.counts[r.labels[k]] ?? 0))
    .map(({ l, k }) => {
      const a = r.current.perClassRecall[k],
        b = r.candidate.perClassRecall[k];
      const d = b - a;
      return `<tr><td>${esc(r.names[k])}</td><td><code>${esc(l)}</code></td><td>${r.counts[l] ?? 0}</td><td>${r.support[k]}</td><td>${pct(a)}</td><td>${pct(b)}</td><td style="color:${d < 0 ? '#b00' : d > 0 ? '#070' : 'inherit'}">${Number.isNaN(d) ? '–' : (d * 100).toFixed(1)}</td></tr>`;
    })
    .join('\n');
  const conf = (e: Evaluation) =>
    e.confusions
      .slice(0, 10)
      .map((c) => `<li>${esc(r.names[c.truth])} → ${esc(r.names[c.predicted])}: ${c.count}</li>`)
      .join('');
  const sh = r.shared;
  const m = (e: Evaluation, ece: { lo: number; hi: number }) =>
    `<td>${pct(e.top1)}</td><td>${pct(e.top5)}</td><td>${e.macroF1.toFixed(4)}</td><td>${e.ece.toFixed(4)} (${ece.lo.toFixed(4)}-${ece.hi.toFixed(4)})</td>`;
  const nr = r.verdict.nonRegression;
  const taxa = r.verdict.newTaxa
    .map(
      (d) =>
        `<tr><td><code>${esc(d.id)}</code></td><td class="${d.status === 'admitted' ? 'pass' : 'fail'}">${d.status}</td><td>${d.installs}</td><td>${d.corrections}</td><td>${d.heldOut ? `${d.heldOut.hits}/${d.heldOut.n}` : '–'}</td><td>${d.heldOut ? `${pct(d.heldOut.recall)} (${pct(d.heldOut.lo)}-${pct(d.heldOut.hi)})` : '–'}</td><td style="text-align:left">${d.needs ? esc(d.needs.why) : ''}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Retrain ${esc(r.runId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}.pass{color:#070}.fail{color:#b00}</style></head><body>
<h1>Retraining run ${esc(r.runId)}</h1>
<p>Parent ${esc(r.parent)} (${esc(r.parentSource === 'database' ? 'the live active version in the database' : r.parentSource)}) → ${r.version ? `registered <strong>${esc(r.version)}</strong> (candidate)` : '<strong>nothing registered</strong>'}; temperature ${r.temperature.toFixed(3)} (${esc(r.temperatureSource)}).</p>
<h2>Gate: <span class="${r.verdict.pass ? 'pass' : 'fail'}">${r.verdict.pass ? 'pass' : 'fail'}</span></h2>
<ul>${[...r.verdict.reasons, ...r.reasons.filter((x) => !r.verdict.reasons.includes(x))].map((x) => `<li>${esc(x)}</li>`).join('')}</ul>
<h2>1. No worse on what the current model knows (${sh.n} photos of launch taxa and "other")</h2>
<p>Top-1 change ${(sh.top1Change.difference * 100).toFixed(2)} points, 95% CI ${(sh.top1Change.lo * 100).toFixed(2)} to ${(sh.top1Change.hi * 100).toFixed(2)} (Newcombe, paired); ${sh.mcnemar.losses} photos lost, ${sh.mcnemar.gains} gained, McNemar ${esc(sh.mcnemar.method)} p = ${sh.mcnemar.p.toPrecision(2)}; ECE change ${sh.eceChange.change.toFixed(4)} (95% bootstrap ${sh.eceChange.lo.toFixed(4)} to ${sh.eceChange.hi.toFixed(4)}). Classes judged one by one (at least 10 photos): ${
    nr.perClass
      .filter((c) => c.judged)
      .map((c) => `${esc(c.label)} ${pct(c.current)} → ${pct(c.candidate)} (${c.support})`)
      .join(', ') || 'none'
  }. <span class="${nr.pass ? 'pass' : 'fail'}">${nr.pass ? 'pass' : 'fail'}</span></p>
<table><tr><th></th><th>top-1</th><th>top-5</th><th>macro-F1</th><th>ECE (95% bootstrap)</th></tr><tr><td>current ${esc(r.parent)}</td>${m(r.current, sh.current.ece)}</tr><tr><td>candidate</td>${m(r.candidate, sh.candidate.ece)}</tr></table>
<h2>2. New taxa on held-out installs</h2>
${taxa ? `<table><tr><th>taxon</th><th>status</th><th>installs</th><th>corrections</th><th>held out right</th><th>recall (95% Wilson)</th><th>still needs</th></tr>${taxa}</table>` : '<p>No new taxa in this run.</p>'}
${r.curve?.length ? `<h2>How many corrections a new taxon needs (<code>npm run pipeline -- curve</code>)</h2>${curveSvg(r.curve)}${curveTable(r.curve)}` : ''}
<h2>Reliability</h2>${reliabilitySvg(r.current, `current ${r.parent}`)} ${reliabilitySvg(r.candidate, 'candidate')}
<h2>Most confused pairs</h2><div style="display:flex;gap:3em"><div><h3>current</h3><ol>${conf(r.current)}</ol></div><div><h3>candidate</h3><ol>${conf(r.candidate)}</ol></div></div>
<h2>Data</h2><pre>${esc(JSON.stringify({ quality: r.quality }, null, 2))}</pre>
<h2>Per class</h2><table><tr><th>taxon</th><th>id</th><th>training examples</th><th>eval photos</th><th>recall before</th><th>recall after</th><th>change (points)</th></tr>
${rows}</table></body></html>
`;
}
