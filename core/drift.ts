/**
 * Drift statistics without labels: how far today's distribution (of
 * predicted taxa, or of top-1 confidence) has moved from a reference window.
 */

/** Counts to proportions; an all-zero histogram has no distribution. */
export function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('a histogram needs at least one observation');
  if (counts.some((c) => c < 0 || !Number.isFinite(c))) throw new RangeError('counts must be finite and non-negative');
  return counts.map((c) => c / total);
}

/**
 * Population stability index: sum over bins of (cur - ref) * ln(cur / ref),
 * on proportions. A bin empty on one side would make it infinite, so every
 * bin gets `epsilon` before normalizing (the usual practice; 1e-4 unless given).
 * Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 large shift.
 */
export function psi(reference: readonly number[], current: readonly number[], epsilon = 1e-4): number {
  if (reference.length !== current.length) throw new RangeError(`histograms differ in bins: ${reference.length} vs ${current.length}`);
  const r = proportions(reference).map((p) => p + epsilon);
  const c = proportions(current).map((p) => p + epsilon);
  const rs = r.reduce((a, b) => a + b, 0);
  const cs = c.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = r[i] / rs;
    const ci = c[i] / cs;
    sum += (ci - ri) * Math.log(ci / ri);
  }
  return sum;
}

/**
 * Jensen-Shannon distance (the square root of the divergence, base-2 logs):
 * symmetric, 0 for equal distributions, 1 for ones with no overlap, and
 * finite with empty bins (0 * log 0 = 0), so no smoothing is needed.
 */
export function jsDistance(reference: readonly number[], current: readonly number[]): number {
  if (reference.length !== current.length) throw new RangeError(`histograms differ in bins: ${reference.length} vs ${current.length}`);
  const p = proportions(reference);
  const q = proportions(current);
  let div = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) div += 0.5 * p[i] * Math.log2(p[i] / m);
    if (q[i] > 0) div += 0.5 * q[i] * Math.log2(q[i] / m);
  }
  return Math.sqrt(Math.max(0, div));
}

/**
 * Counts of values in `bins` equal-width bins over [lo, hi]; values outside
 * are clamped into the end bins. With `weights`, each value adds its weight.
 */
export function histogram(values: readonly number[], bins: number, lo = 0, hi = 1, weights?: readonly number[]): number[] {
  if (!(bins > 0) || !(hi > lo)) throw new RangeError('need bins > 0 and hi > lo');
  const out = new Array<number>(bins).fill(0);
  values.forEach((v, k) => {
    if (!Number.isFinite(v)) return;
    out[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))] += weights ? weights[k] : 1;
  });
  return out;
}

/** Counts per category, in the order of `categories` (anything else is ignored); with `weights`, each value adds its weight. */
export function categoryCounts(values: readonly string[], categories: readonly string[], weights?: readonly number[]): number[] {
  const at = new Map(categories.map((c, i) => [c, i]));
  const out = new Array<number>(categories.length).fill(0);
  values.forEach((v, k) => {
    const i = at.get(v);
    if (i !== undefined) out[i] += weights ? weights[k] : 1;
  });
  return out;
}

export interface DriftThresholds {
  psiWarn: number;
  psiAlert: number;
  jsWarn: number;
  jsAlert: number;
}
export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { psiWarn: 0.1, psiAlert: 0.25, jsWarn: 0.1, jsAlert: 0.2 };

export type DriftLevel = 'ok' | 'warn' | 'alert';

/** The worse of the PSI and JS levels. */
export function driftLevel(psiValue: number, jsValue: number, t: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS): DriftLevel {
  if (psiValue >= t.psiAlert || jsValue >= t.jsAlert) return 'alert';
  if (psiValue >= t.psiWarn || jsValue >= t.jsWarn) return 'warn';
  return 'ok';
}
