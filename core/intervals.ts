/**
 * Small-sample statistics for the retraining gate: Wilson intervals for a
 * proportion, McNemar's test for two classifiers scored on the same photos,
 * and a 95% interval for the difference of two paired proportions.
 * Pure functions, no dependencies: they run in Node, the browser and tests.
 */

/** The two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * Wilson score interval for k successes in n trials. Chosen over the plain
 * (Wald) interval because it stays inside [0, 1] and keeps its coverage at
 * the tiny counts a new taxon has (5/5 gives [0.57, 1], not [1, 1]).
 */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (!(n > 0)) return { lo: 0, hi: 1 };
  if (k < 0 || k > n) throw new RangeError(`wilson: ${k} successes out of ${n}`);
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp rounding at the ends (k = 0 or k = n give exactly 0 or 1 in exact arithmetic).
  return { lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}

/** log(n choose k), exact enough for the counts here (sums of logs; n is at most a few thousand). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(X <= k) for X ~ Binomial(n, 1/2). */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, s);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * Below this many discordant pairs McNemar's test is exact (binomial on the
 * discordant pairs); the chi-square approximation is the usual choice only
 * from about 25 on.
 */
export const MCNEMAR_EXACT_BELOW = 25;

export interface McNemar {
  /** Photos the current model got right and the candidate wrong. */
  losses: number;
  /** Photos the candidate got right and the current model wrong. */
  gains: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'chi-square (continuity corrected)';
}

/** McNemar's test on the discordant pairs of two classifiers scored on the same photos. */
export function mcnemar(losses: number, gains: number): McNemar {
  const m = losses + gains;
  if (m === 0) return { losses, gains, p: 1, method: 'exact' };
  if (m < MCNEMAR_EXACT_BELOW) {
    return { losses, gains, p: Math.min(1, 2 * binomialHalfCdf(Math.min(losses, gains), m)), method: 'exact' };
  }
  const chi2 = Math.max(0, Math.abs(losses - gains) - 1) ** 2 / m;
  // Chi-square with one degree of freedom: P(X > chi2) = erfc(sqrt(chi2 / 2)).
  return { losses, gains, p: Math.min(1, erfc(Math.sqrt(chi2 / 2))), method: 'chi-square (continuity corrected)' };
}

/** The 2 x 2 table of two classifiers on the same photos. */
export interface PairedCounts {
  /** Both right. */
  both: number;
  /** Only the current (reference) model right: the candidate's losses. */
  onlyCurrent: number;
  /** Only the candidate right: its gains. */
  onlyCandidate: number;
  /** Both wrong. */
  neither: number;
}

export function pairedCounts(current: ArrayLike<boolean>, candidate: ArrayLike<boolean>): PairedCounts {
  if (current.length !== candidate.length) throw new RangeError('paired counts need the same photos on both sides');
  const c: PairedCounts = { both: 0, onlyCurrent: 0, onlyCandidate: 0, neither: 0 };
  for (let i = 0; i < current.length; i++) {
    if (current[i] && candidate[i]) c.both++;
    else if (current[i]) c.onlyCurrent++;
    else if (candidate[i]) c.onlyCandidate++;
    else c.neither++;
  }
  return c;
}

export interface PairedDifference extends Interval {
  n: number;
  current: number;
  candidate: number;
  /** candidate - current. */
  difference: number;
}

/**
 * 95% interval for (candidate accuracy - current accuracy) on the same
 * photos: Newcombe's hybrid score interval for paired proportions (1998,
 * method 10), built from the two Wilson intervals and the correlation of the
 * pairs. Unlike the Wald interval it does not collapse to a point when only
 * a few answers change, which is the usual case for a retrained head.
 */
export function pairedDifference(t: PairedCounts, z = Z95): PairedDifference {
  const n = t.both + t.onlyCurrent + t.onlyCandidate + t.neither;
  if (!n) return { n: 0, current: NaN, candidate: NaN, difference: NaN, lo: -1, hi: 1 };
  const kCand = t.both + t.onlyCandidate,
    kCur = t.both + t.onlyCurrent;
  const p1 = kCand / n,
    p2 = kCur / n;
  const w1 = wilson(kCand, n, z),
    w2 = wilson(kCur, n, z);
  // Rows: candidate right / wrong; columns: current right / wrong.
  const A = t.both,
    B = t.onlyCandidate,
    C = t.onlyCurrent,
    D = t.neither;
  const den = Math.sqrt((A + B) * (C + D) * (A + C) * (B + D));
  const phi = den > 0 ? (A * D - B * C) / den : 0;
  const d = p1 - p2;
  const delta = Math.sqrt(Math.max(0, (p1 - w1.lo) ** 2 - 2 * phi * (p1 - w1.lo) * (w2.hi - p2) + (w2.hi - p2) ** 2));
  const eps = Math.sqrt(Math.max(0, (w1.hi - p1) ** 2 - 2 * phi * (w1.hi - p1) * (p2 - w2.lo) + (p2 - w2.lo) ** 2));
  return { n, current: p2, candidate: p1, difference: d, lo: Math.max(-1, d - delta), hi: Math.min(1, d + eps) };
}
