/**
 * One answer from several photos of the same animal (an observation).
 *
 * The model's logits are its calibrated scores (a retrained version folds its
 * softmax temperature into them, see manifest `temperature`), so each photo
 * gives a probability distribution over the launch taxa plus "other". If the
 * photos are independent views, the posterior of the observation is
 * proportional to the product of the per-photo probabilities: the sum of
 * their log-probabilities. That sum is returned as logits, so the one
 * `interpret()` the single-photo path uses (softmax, top-5, abstain, roll-up)
 * reads a fused observation the same way. A mean of probabilities is kept as
 * the measured alternative (`npm run eval -- --observation-size`).
 */

export type FusionRule = 'log-sum' | 'mean-prob';

export const FUSION_RULES: readonly FusionRule[] = ['log-sum', 'mean-prob'];

/** The most photos one observation holds. */
export const MAX_OBSERVATION_PHOTOS = 5;

/** log(softmax(logits)), computed stably. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (!Number.isFinite(max)) throw new RangeError('logits must be finite numbers');
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/**
 * Logits whose softmax is the observation's fused distribution.
 * log-sum: softmax(sum_i log p_i) = prod_i p_i / Z.
 * mean-prob: log(mean_i p_i), already normalized.
 */
export function fuseLogits(photos: ReadonlyArray<ArrayLike<number>>, rule: FusionRule = 'log-sum'): Float32Array {
  if (photos.length === 0) throw new RangeError('an observation needs at least one photo');
  const n = photos[0].length;
  if (photos.some((p) => p.length !== n)) throw new RangeError('every photo of an observation must have the same number of logits');
  const out = new Float64Array(n);
  if (rule === 'log-sum') {
    for (const p of photos) {
      const lp = logSoftmax(p);
      for (let i = 0; i < n; i++) out[i] += lp[i];
    }
  } else {
    for (const p of photos) {
      const lp = logSoftmax(p);
      for (let i = 0; i < n; i++) out[i] += Math.exp(lp[i]) / photos.length;
    }
    // A class every photo gives exactly 0 keeps a very low, finite score.
    for (let i = 0; i < n; i++) out[i] = Math.log(Math.max(out[i], 1e-300));
  }
  return Float32Array.from(out);
}

/** The mean of two views' logits (a photo and its mirror image), as the reference run measured. */
export function averageLogits(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new RangeError('both views must have the same number of logits');
  return Float32Array.from({ length: a.length }, (_, i) => (a[i] + b[i]) / 2);
}

/** A model input (NCHW, one image at `offset`) mirrored left to right, in place of a second decode. */
export function mirrorTensor(tensor: Float32Array, channels: number, height: number, width: number, offset = 0): Float32Array {
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = offset + (c * height + y) * width;
      const dst = (c * height + y) * width;
      for (let x = 0; x < width; x++) out[dst + x] = tensor[row + width - 1 - x];
    }
  }
  return out;
}
