/** The run's HTML report: per-class table, most-confused pairs, reliability diagrams (inline SVG), before/after. */
import type { Evaluation } from '../core/classifier-metrics.ts';
import type { GateVerdict } from '../core/retrain-gate.ts';
import type { QualityReport } from './quality.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (x: number) => (Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);

function reliabilitySvg(e: Evaluation, title: string): string {
  const W = 240, H = 240, pad = 30;
  const bars = e.reliability.filter((b) => b.count).map((b) => {
    const x = pad + b.lo * (W - 2 * pad), w = (b.hi - b.lo) * (W - 2 * pad);
    const h = b.accuracy * (H - 2 * pad);
    return `<rect x="${x.toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7ab7"><title>${b.count} photos, confidence ${pct(b.confidence)}, accuracy ${pct(b.accuracy)}</title></rect>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><text x="${W / 2}" y="16" text-anchor="middle" font-size="12">${esc(title)} (ECE ${e.ece.toFixed(4)})</text><rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#999"/>${bars}<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${pad}" stroke="#c33" stroke-dasharray="4"/><text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">confidence</text><text x="10" y="${H / 2}" font-size="10" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">accuracy</text></svg>`;
}

export interface ReportInput {
  runId: string; parent: string; version: string | null; labels: string[]; names: string[];
  current: Evaluation; candidate: Evaluation; support: number[]; verdict: GateVerdict; reasons: string[];
  counts: Record<string, number>; quality: QualityReport | null; temperature: number;
}

export function renderReport(r: ReportInput): string {
  const rows = r.labels.map((l, k) => ({ l, k })).filter(({ k }) => r.support[k] || (r.counts[r.labels[k]] ?? 0))
    .map(({ l, k }) => {
      const a = r.current.perClassRecall[k], b = r.candidate.perClassRecall[k];
      const d = b - a;
      return `<tr><td>${esc(r.names[k])}</td><td><code>${esc(l)}</code></td><td>${r.counts[l] ?? 0}</td><td>${r.support[k]}</td><td>${pct(a)}</td><td>${pct(b)}</td><td style="color:${d < 0 ? '#b00' : d > 0 ? '#070' : 'inherit'}">${Number.isNaN(d) ? '–' : (d * 100).toFixed(1)}</td></tr>`;
    }).join('\n');
  const conf = (e: Evaluation) => e.confusions.slice(0, 10).map((c) => `<li>${esc(r.names[c.truth])} → ${esc(r.names[c.predicted])}: ${c.count}</li>`).join('');
  const m = (e: Evaluation) => `<td>${pct(e.top1)}</td><td>${pct(e.top5)}</td><td>${e.macroF1.toFixed(4)}</td><td>${e.ece.toFixed(4)}</td>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Retrain ${esc(r.runId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}.pass{color:#070}.fail{color:#b00}</style></head><body>
<h1>Retraining run ${esc(r.runId)}</h1>
<p>Parent ${esc(r.parent)} → ${r.version ? `registered <strong>${esc(r.version)}</strong> (candidate)` : '<strong>nothing registered</strong>'}; temperature ${r.temperature.toFixed(3)}.</p>
<h2>Gate: <span class="${r.verdict.pass ? 'pass' : 'fail'}">${r.verdict.pass ? 'pass' : 'fail'}</span></h2>
<ul>${[...r.verdict.reasons, ...r.reasons.filter((x) => !r.verdict.reasons.includes(x))].map((x) => `<li>${esc(x)}</li>`).join('')}</ul>
<h2>Before / after (evaluation set, ${r.current.n} photos)</h2>
<table><tr><th></th><th>top-1</th><th>top-5</th><th>macro-F1</th><th>ECE</th></tr><tr><td>current ${esc(r.parent)}</td>${m(r.current)}</tr><tr><td>candidate</td>${m(r.candidate)}</tr></table>
<h2>Reliability</h2>${reliabilitySvg(r.current, `current ${r.parent}`)} ${reliabilitySvg(r.candidate, 'candidate')}
<h2>Most confused pairs</h2><div style="display:flex;gap:3em"><div><h3>current</h3><ol>${conf(r.current)}</ol></div><div><h3>candidate</h3><ol>${conf(r.candidate)}</ol></div></div>
<h2>Data</h2><pre>${esc(JSON.stringify({ quality: r.quality }, null, 2))}</pre>
<h2>Per class</h2><table><tr><th>taxon</th><th>id</th><th>training examples</th><th>eval photos</th><th>recall before</th><th>recall after</th><th>change (points)</th></tr>
${rows}</table></body></html>
`;
}
