/** Evaluation of a classifier's probabilities against labels: the figures the retraining gate compares. */
import { seededRandom } from './random.ts';

export interface Evaluation {
  n: number;
  top1: number;
  top5: number;
  /** Recall per class index (NaN where the class has no examples). */
  perClassRecall: number[];
  macroF1: number;
  /** Expected calibration error of the top-1 confidence (equal-width bins). */
  ece: number;
  /** Reliability diagram: per bin, mean confidence, accuracy and count. */
  reliability: Array<{ lo: number; hi: number; confidence: number; accuracy: number; count: number }>;
  /** Most frequent (true, predicted) confusions. */
  confusions: Array<{ truth: number; predicted: number; count: number }>;
}

function topIndices(p: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: p.length }, (_, i) => i);
  idx.sort((a, b) => p[b] - p[a] || a - b);
  return idx.slice(0, k);
}

export function evaluate(probs: ArrayLike<number>[], labels: ArrayLike<number>, classes: number, bins = 15): Evaluation {
  const n = probs.length;
  if (n !== labels.length) throw new RangeError('one label per prediction');
  let top1 = 0,
    top5 = 0;
  const tp = new Array(classes).fill(0),
    support = new Array(classes).fill(0),
    predicted = new Array(classes).fill(0);
  const binConf = new Array<number>(bins).fill(0),
    binAcc = new Array<number>(bins).fill(0),
    binCount = new Array<number>(bins).fill(0);
  const confusion = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = probs[i];
    const y = labels[i];
    const best = topIndices(p, 5);
    const hit = best[0] === y;
    if (hit) top1++;
    if (best.includes(y)) top5++;
    support[y]++;
    predicted[best[0]]++;
    if (hit) tp[y]++;
    else confusion.set(`${y}:${best[0]}`, (confusion.get(`${y}:${best[0]}`) ?? 0) + 1);
    const conf = p[best[0]];
    const b = Math.min(bins - 1, Math.floor(conf * bins));
    binConf[b] += conf;
    binAcc[b] += hit ? 1 : 0;
    binCount[b]++;
  }
  const perClassRecall = support.map((s, k) => (s ? tp[k] / s : NaN));
  // Macro-F1 over classes that occur in the labels or the predictions.
  const f1s: number[] = [];
  for (let k = 0; k < classes; k++) {
    if (!support[k] && !predicted[k]) continue;
    const precision = predicted[k] ? tp[k] / predicted[k] : 0;
    const recall = support[k] ? tp[k] / support[k] : 0;
    f1s.push(precision + recall ? (2 * precision * recall) / (precision + recall) : 0);
  }
  let ece = 0;
  const reliability = binCount.map((count, b) => {
    if (count) ece += (count / n) * Math.abs(binAcc[b] / count - binConf[b] / count);
    return { lo: b / bins, hi: (b + 1) / bins, confidence: count ? binConf[b] / count : NaN, accuracy: count ? binAcc[b] / count : NaN, count };
  });
  const confusions = [...confusion.entries()]
    .map(([key, count]) => {
      const [truth, pred] = key.split(':').map(Number);
      return { truth, predicted: pred, count };
    })
    .sort((a, b) => b.count - a.count || a.truth - b.truth)
    .slice(0, 20);
  return { n, top1: n ? top1 / n : NaN, top5: n ? top5 / n : NaN, perClassRecall, macroF1: f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : NaN, ece, reliability, confusions };
}

/** Per photo: the top-1 confidence and whether the top-1 is right (what ECE and the paired tests need). */
export function topOne(probs: ArrayLike<number>[], labels: ArrayLike<number>): { confidence: Float64Array; hit: Uint8Array } {
  const confidence = new Float64Array(probs.length),
    hit = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    confidence[i] = p[best];
    hit[i] = best === labels[i] ? 1 : 0;
  }
  return { confidence, hit };
}

/** ECE with equal-width bins over the photos `idx` (all photos when omitted); the same binning as evaluate(). */
export function eceOf(confidence: ArrayLike<number>, hit: ArrayLike<number>, idx?: ArrayLike<number>, bins = 15): number {
  const conf = new Float64Array(bins),
    acc = new Float64Array(bins),
    count = new Float64Array(bins);
  const n = idx ? idx.length : confidence.length;
  for (let j = 0; j < n; j++) {
    const i = idx ? idx[j] : j;
    const b = Math.min(bins - 1, Math.floor(confidence[i] * bins));
    conf[b] += confidence[i];
    acc[b] += hit[i];
    count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(acc[b] - conf[b]) / n;
  return ece;
}

export interface EceInterval {
  ece: number;
  lo: number;
  hi: number;
  resamples: number;
}

const percentile = (xs: Float64Array, q: number) => {
  const s = Float64Array.from(xs).sort();
  const at = (s.length - 1) * q,
    lo = Math.floor(at),
    hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
};

/**
 * 95% percentile-bootstrap interval of `statistic` over n photos: each of
 * `resamples` draws n photo indices with replacement (the same draw for
 * every model the statistic compares, which is what makes a paired interval).
 */
function bootstrapInterval(n: number, resamples: number, seed: number, statistic: (idx: Int32Array) => number): { lo: number; hi: number } {
  const rand = seededRandom(seed);
  const out = new Float64Array(resamples);
  const idx = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let j = 0; j < n; j++) idx[j] = Math.floor(rand() * n);
    out[r] = statistic(idx);
  }
  return n ? { lo: percentile(out, 0.025), hi: percentile(out, 0.975) } : { lo: NaN, hi: NaN };
}

/**
 * ECE with a 95% percentile-bootstrap interval (photos resampled with
 * replacement). ECE from a few hundred photos moves by a point or more from
 * sampling alone, so a bare "lower than before" says little.
 */
export function bootstrapEce(confidence: ArrayLike<number>, hit: ArrayLike<number>, resamples = 1000, seed = 1): EceInterval {
  const { lo, hi } = bootstrapInterval(confidence.length, resamples, seed, (idx) => eceOf(confidence, hit, idx));
  return { ece: eceOf(confidence, hit), lo, hi, resamples };
}

/**
 * The change in ECE (candidate - current) on the same photos, with a paired
 * bootstrap interval: each resample draws the same photos for both models,
 * so what the photos share cancels out.
 */
export function pairedEceChange(
  current: { confidence: ArrayLike<number>; hit: ArrayLike<number> },
  candidate: { confidence: ArrayLike<number>; hit: ArrayLike<number> },
  resamples = 1000,
  seed = 1,
): { change: number; lo: number; hi: number; resamples: number } {
  const n = current.confidence.length;
  if (candidate.confidence.length !== n) throw new RangeError('paired ECE needs the same photos on both sides');
  const { lo, hi } = bootstrapInterval(n, resamples, seed, (idx) => eceOf(candidate.confidence, candidate.hit, idx) - eceOf(current.confidence, current.hit, idx));
  return { change: eceOf(candidate.confidence, candidate.hit) - eceOf(current.confidence, current.hit), lo, hi, resamples };
}
