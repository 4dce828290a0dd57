/**
 * Metrics per model version and day (or hour): counts, install-weighted
 * rates, prediction mix, confidence histogram and latency, and the
 * most-corrected pairs. Pure functions over plain facts.
 */
import { histogram } from './drift.ts';
import { installWeights } from './install-weight.ts';
import { quantile } from './stats.ts';
import { ABSTAIN, bucketOf, CONFIDENCE_BINS, type Bucket, type BucketMetrics, type CorrectionFact, type IdentificationFact, type LatencyStats } from './telemetry-facts.ts';

function latencyStats(values: number[]): LatencyStats {
  const v = values.filter(Number.isFinite);
  return v.length ? { n: v.length, p50: quantile(v, 0.5), p95: quantile(v, 0.95) } : { n: 0, p50: 0, p95: 0 };
}

/**
 * Metrics per (model version, bucket), sorted by version then bucket.
 * Rates, the prediction mix and the confidence histogram weigh each install
 * per bucket (core/install-weight.ts), so one install's flood moves them like
 * one busy install; `identifications` and `installs` are plain counts.
 * Only corrections that are evidence (grounded, within the cap) count.
 */
export function aggregateMetrics(ids: readonly IdentificationFact[], corrections: readonly CorrectionFact[], bucket: Bucket = 'day', topTaxa = 20): BucketMetrics[] {
  interface Acc { ids: IdentificationFact[]; weights: number[]; corrected: number; confirmed: number }
  const groupKey = (version: string, hour: string) => `${version}\u0000${bucketOf(hour, bucket)}`;
  const weights = installWeights(ids, (e) => e.installId, (e) => groupKey(e.modelVersion, e.hour));
  // An install's corrections weigh what its identifications weigh in the same bucket.
  const installWeight = new Map<string, number>();
  ids.forEach((e, i) => installWeight.set(`${groupKey(e.modelVersion, e.hour)}\u0000${e.installId}`, weights[i]));
  const groups = new Map<string, Acc>();
  const acc = (k: string) => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ids: [], weights: [], corrected: 0, confirmed: 0 }));
    return g;
  };
  ids.forEach((e, i) => {
    const g = acc(groupKey(e.modelVersion, e.hour));
    g.ids.push(e);
    g.weights.push(weights[i]);
  });
  for (const c of corrections) {
    if (c.grounding !== 'grounded' || !c.counted) continue;
    const k = groupKey(c.modelVersion, c.hour);
    const w = installWeight.get(`${k}\u0000${c.installId.toLowerCase()}`) ?? 1;
    const g = acc(k);
    if (c.verdict === 'corrected') g.corrected += w;
    else g.confirmed += w;
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  const out: BucketMetrics[] = [];
  for (const [k, g] of groups) {
    const [modelVersion, b] = k.split('\u0000');
    const n = g.ids.length;
    const weight = g.weights.reduce((a, w) => a + w, 0);
    const abstained = g.ids.reduce((a, e, i) => a + (e.abstain ? g.weights[i] : 0), 0);
    const counts = new Map<string, number>();
    g.ids.forEach((e, i) => {
      const label = e.abstain ? ABSTAIN : e.top1;
      counts.set(label, (counts.get(label) ?? 0) + g.weights[i]);
    });
    const byBackend = new Map<string, number[]>();
    for (const e of g.ids) {
      let list = byBackend.get(e.backend);
      if (!list) byBackend.set(e.backend, (list = []));
      list.push(e.totalMs);
    }
    out.push({
      modelVersion,
      bucket: b,
      identifications: n,
      installs: new Set(g.ids.map((e) => e.installId)).size,
      abstained: round(abstained),
      abstainRate: weight ? abstained / weight : 0,
      corrections: round(g.corrected),
      confirmations: round(g.confirmed),
      correctionRate: weight ? g.corrected / weight : 0,
      confidenceHistogram: histogram(g.ids.map((e) => e.confidence), CONFIDENCE_BINS, 0, 1, g.weights).map(round),
      predictions: [...counts].map(([taxonId, count]) => ({ taxonId, count: round(count) })).sort((a, b2) => b2.count - a.count || a.taxonId.localeCompare(b2.taxonId)).slice(0, topTaxa),
      latency: Object.fromEntries([...byBackend].sort(([a], [b2]) => a.localeCompare(b2)).map(([be, v]) => [be, latencyStats(v)])),
    });
  }
  return out.sort((a, b) => a.modelVersion.localeCompare(b.modelVersion) || a.bucket.localeCompare(b.bucket));
}

/** Predicted -> corrected taxon, most frequent first (corrections with verdict "corrected" only). */
export function correctedPairs(corrections: readonly CorrectionFact[], predictedOf: (correctsEventId: string) => string | undefined, limit = 10) {
  const counts = new Map<string, { modelVersion: string; predicted: string; corrected: string; count: number }>();
  for (const c of corrections) {
    if (c.verdict !== 'corrected') continue;
    const predicted = predictedOf(c.correctsEventId) ?? '(unknown)';
    const corrected = c.taxonId ?? `"${c.proposedName}"`;
    const k = `${c.modelVersion}\u0000${predicted}\u0000${corrected}`;
    const entry = counts.get(k) ?? { modelVersion: c.modelVersion, predicted, corrected, count: 0 };
    entry.count++;
    counts.set(k, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.predicted.localeCompare(b.predicted)).slice(0, limit);
}
