/**
 * Metrics per model version and day (or hour): counts, install-weighted
 * rates, prediction mix, confidence histogram and latency, and the
 * most-corrected pairs. Pure functions over plain facts.
 */
import { histogram } from './drift.ts';
import { EVENTS_PER_INSTALL_CAP, installWeights } from './install-weight.ts';
import { latencyQuantile } from './latency-bins.ts';
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
  interface Acc {
    ids: IdentificationFact[];
    weights: number[];
    corrected: number;
    confirmed: number;
  }
  const groupKey = (version: string, hour: string) => `${version}\u0000${bucketOf(hour, bucket)}`;
  const weights = installWeights(
    ids,
    (e) => e.installId,
    (e) => groupKey(e.modelVersion, e.hour),
  );
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
      confidenceHistogram: histogram(
        g.ids.map((e) => e.confidence),
        CONFIDENCE_BINS,
        0,
        1,
        g.weights,
      ).map(round),
      predictions: [...counts]
        .map(([taxonId, count]) => ({ taxonId, count: round(count) }))
        .sort((a, b2) => b2.count - a.count || a.taxonId.localeCompare(b2.taxonId))
        .slice(0, topTaxa),
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

// ---------------------------------------------------------------- from rollups

/** One install past the cap in a bucket: its own counts, which weigh cap/n of what they count plainly. */
export interface HeavyTally {
  n: number;
  labels: Map<string, number>;
  confidence: number[];
  corrected: number;
  confirmed: number;
}

/**
 * What the installs past the cap take off a bucket, already summed over
 * them: (1 - cap/n) of each of their counts, and `weight` = the sum of
 * (n - cap). A reader that can do weighted()'s per-install step where the
 * rows are (rollup-reads.ts, whole days) sends this instead of one
 * HeavyTally per install.
 */
export interface HeavyExcess {
  weight: number;
  labels: Map<string, number>;
  confidence: number[];
  corrected: number;
  confirmed: number;
}

/**
 * A (version, bucket) as the rollups hold it: plain counts (every event 1)
 * and, apart, the installs that passed the per-install cap in the bucket
 * (one by one in `heavy`, or summed in `heavyExcess`).
 */
export interface BucketTally {
  modelVersion: string;
  bucket: string;
  n: number;
  installs: number;
  labels: Map<string, number>;
  confidence: number[];
  /** Per backend, counts per core/latency-bins.ts bin. */
  latency: Map<string, number[]>;
  /** Corrections that are evidence (grounded, within the cap), plain counts. */
  corrected: number;
  confirmed: number;
  heavy: HeavyTally[];
  heavyExcess?: HeavyExcess;
}

/**
 * The install-weighted figures of a bucket from its plain counts: installs
 * under the cap weigh 1 per event, so only those past it need taking off:
 * each of their events weighs cap/n instead of 1 (core/install-weight.ts),
 * i.e. (1 - cap/n) of their own counts come off the plain ones.
 */
export function weighted(t: Pick<BucketTally, 'n' | 'labels' | 'confidence' | 'corrected' | 'confirmed' | 'heavy' | 'heavyExcess'>, cap = EVENTS_PER_INSTALL_CAP) {
  const labels = new Map(t.labels);
  const confidence = [...t.confidence];
  let weight = t.n;
  let corrected = t.corrected;
  let confirmed = t.confirmed;
  for (const h of t.heavy) {
    const off = 1 - cap / h.n;
    weight -= h.n - cap;
    for (const [k, v] of h.labels) labels.set(k, labels.get(k)! - off * v);
    h.confidence.forEach((v, i) => {
      confidence[i] -= off * v;
    });
    corrected -= off * h.corrected;
    confirmed -= off * h.confirmed;
  }
  const x = t.heavyExcess;
  if (x) {
    weight -= x.weight;
    for (const [k, v] of x.labels) labels.set(k, (labels.get(k) ?? 0) - v);
    x.confidence.forEach((v, i) => {
      confidence[i] -= v;
    });
    corrected -= x.corrected;
    confirmed -= x.confirmed;
  }
  return { weight, labels, confidence, corrected, confirmed };
}

/** BucketMetrics from a bucket's rollups: what aggregateMetrics gives from the raw events, latency quantiles within one bin. */
export function bucketMetrics(t: BucketTally, topTaxa = 20, cap = EVENTS_PER_INSTALL_CAP): BucketMetrics {
  const w = weighted(t, cap);
  const round = (x: number) => Math.round(x * 100) / 100;
  const abstained = w.labels.get(ABSTAIN) ?? 0;
  return {
    modelVersion: t.modelVersion,
    bucket: t.bucket,
    identifications: t.n,
    installs: t.installs,
    abstained: round(abstained),
    abstainRate: w.weight ? abstained / w.weight : 0,
    corrections: round(w.corrected),
    confirmations: round(w.confirmed),
    correctionRate: w.weight ? w.corrected / w.weight : 0,
    confidenceHistogram: w.confidence.map(round),
    predictions: [...w.labels]
      .map(([taxonId, count]) => ({ taxonId, count: round(count) }))
      .sort((a, b) => b.count - a.count || a.taxonId.localeCompare(b.taxonId))
      .slice(0, topTaxa),
    latency: Object.fromEntries(
      [...t.latency]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([be, bins]) => {
          const n = bins.reduce((a, b) => a + b, 0);
          return [be, n ? { n, p50: latencyQuantile(bins, 0.5), p95: latencyQuantile(bins, 0.95) } : { n: 0, p50: 0, p95: 0 }];
        }),
    ),
  };
}

/**
 * One row per version over the whole range (the side-by-side), from its
 * buckets: counts add, weighted figures add as each bucket weighed them
 * (installs are weighed per day, as everywhere else), rates are recomputed;
 * `installs` is the most distinct installs of one day in the range.
 */
export function versionSummary(days: readonly BucketTally[], topTaxa = 10, cap = EVENTS_PER_INSTALL_CAP): Omit<BucketMetrics, 'bucket'>[] {
  const byVersion = new Map<string, BucketTally[]>();
  for (const d of days) byVersion.set(d.modelVersion, [...(byVersion.get(d.modelVersion) ?? []), d]);
  return [...byVersion]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([modelVersion, list]) => {
      const ws = list.map((d) => weighted(d, cap));
      // A merged tally with no heavy installs left: each bucket's weighing is already in its numbers.
      const labels = new Map<string, number>();
      const confidence = new Array<number>(CONFIDENCE_BINS).fill(0);
      const latency = new Map<string, number[]>();
      for (const w of ws) {
        for (const [k, v] of w.labels) labels.set(k, (labels.get(k) ?? 0) + v);
        w.confidence.forEach((v, i) => {
          confidence[i] += v;
        });
      }
      for (const d of list) {
        for (const [be, bins] of d.latency) {
          const acc = latency.get(be) ?? new Array<number>(bins.length).fill(0);
          bins.forEach((v, i) => {
            acc[i] += v;
          });
          latency.set(be, acc);
        }
      }
      const merged: BucketTally = {
        modelVersion,
        bucket: 'all',
        n: list.reduce((a, d) => a + d.n, 0),
        installs: 0,
        labels,
        confidence,
        latency,
        corrected: ws.reduce((a, w) => a + w.corrected, 0),
        confirmed: ws.reduce((a, w) => a + w.confirmed, 0),
        heavy: [],
      };
      const m = bucketMetrics(merged, topTaxa, cap);
      // The weight of the range is the sum of the buckets' weights, not n.
      const weight = ws.reduce((a, w) => a + w.weight, 0);
      const { bucket: _b, ...rest } = m;
      return {
        ...rest,
        // Distinct installs over a whole range would need every install's rows read back: the busiest day's count stands for it.
        installs: Math.max(0, ...list.map((d) => d.installs)),
        abstainRate: weight ? (labels.get(ABSTAIN) ?? 0) / weight : 0,
        correctionRate: weight ? merged.corrected / weight : 0,
      };
    });
}
