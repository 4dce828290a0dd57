/**
 * Always-valid inference for the rollout guard: the mixture sequential
 * probability ratio test (mSPRT, Robbins 1970; Johari, Pekelis & Walsh,
 * "Always valid inference", 2017) for a difference of two means with a
 * normal approximation.
 *
 * The guard looks at the same rollout every few minutes for days. A fixed-z
 * test at every look would raise false alarms far above its nominal rate;
 * the mSPRT's bound holds however often, and whenever, one looks: with a
 * normal mixing distribution N(theta0, tau^2) over the true difference, the
 * likelihood ratio
 *   Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 (d - theta0)^2 / (2 V (V + tau^2)))
 * (d the estimated difference, V its variance) exceeds 1/alpha with
 * probability at most alpha at ANY time under theta = theta0. Inverting it
 * gives a confidence sequence d +- halfWidth that covers the truth at every
 * look at once with probability 1 - alpha.
 */

/**
 * Half-width of the always-valid (1 - alpha) confidence sequence for a
 * difference estimated with variance `variance`, mixing sd `tau` (the size
 * of difference the test is most sensitive to). 0 when the variance is 0.
 */
export function msprtHalfWidth(variance: number, tau: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be within (0, 1), got ${alpha}`);
  if (!(tau > 0)) throw new RangeError(`tau must be positive, got ${tau}`);
  if (!(variance > 0)) return 0;
  if (!Number.isFinite(variance)) return Infinity;
  const t2 = tau * tau;
  return Math.sqrt(((2 * variance * (variance + t2)) / t2) * (Math.log(1 / alpha) + 0.5 * Math.log((variance + t2) / variance)));
}

/** The mSPRT statistic itself (Lambda above), for reports and tests. */
export function msprtLambda(difference: number, theta0: number, variance: number, tau: number): number {
  if (!(variance > 0)) return difference === theta0 ? 1 : Infinity;
  const t2 = tau * tau;
  return Math.sqrt(variance / (variance + t2)) * Math.exp((t2 * (difference - theta0) ** 2) / (2 * variance * (variance + t2)));
}

/** P(X >= k) for X ~ Binomial(n, p), summed exactly (n is a count of installs: small). */
export function binomialTailAtLeast(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // Terms by the ratio of consecutive binomial coefficients, in logs so big n do not overflow.
  let logTerm = 0;
  for (let i = 0; i < k; i++) logTerm += Math.log((n - i) / (i + 1));
  logTerm += k * Math.log(p) + (n - k) * Math.log1p(-p);
  let term = Math.exp(logTerm);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, sum);
}
