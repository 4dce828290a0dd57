/**
 * Latency as a fixed histogram: bins spaced by a factor of 10^(1/10)
 * (about 26%) from 1 ms to 100 s, plus one bin below and one above. Fixed,
 * shared edges make histograms mergeable by adding counts (an hour's bins
 * plus the next hour's are the two hours' bins), which is what rollup rows
 * need; a quantile read back is within one bin, i.e. within about 12% of
 * the true value either way (the bin's geometric middle is returned).
 */

/** Bins per factor of ten. */
const PER_DECADE = 10;
const LOW_MS = 1;
/** Bin 0: under 1 ms; bins 1..50: [1 ms * 10^((k-1)/10), 1 ms * 10^(k/10)); bin 51: 100 s and over. */
export const LATENCY_BINS = 5 * PER_DECADE + 2;

/** The bin of a latency; null for a value that is not a finite number (it is not counted). */
export function latencyBin(ms: number): number | null {
  if (!Number.isFinite(ms)) return null;
  if (ms < LOW_MS) return 0;
  const k = Math.floor(Math.log10(ms / LOW_MS) * PER_DECADE) + 1;
  return Math.min(LATENCY_BINS - 1, k);
}

/** The value a bin stands for: its geometric middle (the end bins: their inner edge). */
export function latencyBinValue(bin: number): number {
  if (bin <= 0) return LOW_MS;
  if (bin >= LATENCY_BINS - 1) return LOW_MS * 10 ** ((LATENCY_BINS - 2) / PER_DECADE);
  return LOW_MS * 10 ** ((bin - 0.5) / PER_DECADE);
}

/** The q-quantile (0..1) of a histogram of counts per bin, by the same rank rule as core/stats.ts quantile (nearest lower rank). */
export function latencyQuantile(counts: readonly number[], q: number): number {
  const n = counts.reduce((a, b) => a + b, 0);
  if (!(n > 0)) return 0;
  const rank = Math.floor((n - 1) * q);
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b];
    if (seen > rank) return latencyBinValue(b);
  }
  return latencyBinValue(counts.length - 1);
}
