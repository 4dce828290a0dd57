/**
 * Training the classification head on frozen embeddings: multinomial
 * logistic regression, regularized toward a prior head (the current model's
 * weights) so classes with few new examples are not forgotten. Some logits
 * can be fixed per example rather than learned (the "other" class, whose
 * logit is the log-sum-exp of the base model's non-launch ImageNet logits).
 * Pure TypeScript: runs in Node for the pipeline, and in tests.
 */
import { seededRandom } from './random.ts';

export interface Head {
  /** Learned classes. */
  classes: number;
  dim: number;
  /** classes x dim, row-major. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface Examples {
  n: number;
  dim: number;
  /** n x dim, row-major. */
  x: Float32Array;
  /** Target index in [0, classes + fixedCount). */
  y: Int32Array;
  /** Per-example fixed logits appended after the learned ones (n x fixedCount), e.g. "other". */
  fixed?: Float32Array;
  fixedCount?: number;
}

export interface TrainOptions {
  init: Head;
  /** The head to stay near; defaults to init. */
  prior?: Head;
  /** L2 strength toward the prior (per example, as in mean loss + lambda/2 ||W - W0||^2). */
  lambda: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed?: number;
  /** Per-example weights (e.g. to balance classes); default 1. */
  sampleWeight?: Float32Array;
  onEpoch?: (epoch: number, loss: number) => void;
}

export function zeroHead(classes: number, dim: number): Head {
  return { classes, dim, weights: new Float32Array(classes * dim), bias: new Float32Array(classes) };
}

export function cloneHead(h: Head): Head {
  return { classes: h.classes, dim: h.dim, weights: h.weights.slice(), bias: h.bias.slice() };
}

/** Logits of example i: learned ones then fixed ones, into `out`. */
export function exampleLogits(head: Head, data: Examples, i: number, out: Float32Array): Float32Array {
  const { dim } = head;
  const xo = i * dim;
  for (let k = 0; k < head.classes; k++) {
    let s = head.bias[k];
    const wo = k * dim;
    for (let j = 0; j < dim; j++) s += head.weights[wo + j] * data.x[xo + j];
    out[k] = s;
  }
  const f = data.fixedCount ?? 0;
  for (let k = 0; k < f; k++) out[head.classes + k] = data.fixed![i * f + k];
  return out;
}

function softmaxInPlace(v: Float32Array, temperature = 1): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] / temperature > max) max = v[i] / temperature;
  let sum = 0;
  for (let i = 0; i < v.length; i++) { v[i] = Math.exp(v[i] / temperature - max); sum += v[i]; }
  for (let i = 0; i < v.length; i++) v[i] /= sum;
  return v;
}


/** Mini-batch Adam on the regularized cross-entropy. Returns the trained head; init is not changed. */
export function trainHead(data: Examples, opts: TrainOptions): Head {
  const head = cloneHead(opts.init);
  const prior = opts.prior ?? opts.init;
  const { classes: K, dim: D } = head;
  if (data.dim !== D) throw new RangeError(`examples have ${data.dim} dimensions, the head ${D}`);
  const total = K + (data.fixedCount ?? 0);
  for (let i = 0; i < data.n; i++) if (data.y[i] < 0 || data.y[i] >= total) throw new RangeError(`label ${data.y[i]} of example ${i} is outside 0..${total - 1}`);
  const rand = seededRandom(opts.seed ?? 1);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const gW = new Float32Array(K * D);
  const gB = new Float32Array(K);
  const mW = new Float32Array(K * D), vW = new Float32Array(K * D);
  const mB = new Float32Array(K), vB = new Float32Array(K);
  const logits = new Float32Array(total);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = data.n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < data.n; start += opts.batchSize) {
      const end = Math.min(data.n, start + opts.batchSize);
      gW.fill(0);
      gB.fill(0);
      let bw = 0;
      for (let t = start; t < end; t++) {
        const i = order[t];
        const w = opts.sampleWeight?.[i] ?? 1;
        exampleLogits(head, data, i, logits);
        softmaxInPlace(logits);
        lossSum -= w * Math.log(Math.max(1e-12, logits[data.y[i]]));
        weightSum += w;
        bw += w;
        const xo = i * D;
        for (let k = 0; k < K; k++) {
          const g = w * (logits[k] - (k === data.y[i] ? 1 : 0));
          if (g === 0) continue;
          gB[k] += g;
          const wo = k * D;
          for (let j = 0; j < D; j++) gW[wo + j] += g * data.x[xo + j];
        }
      }
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      const lr = opts.learningRate;
      for (let p = 0; p < K * D; p++) {
        const g = gW[p] / bw + opts.lambda * (head.weights[p] - prior.weights[p]);
        mW[p] = beta1 * mW[p] + (1 - beta1) * g;
        vW[p] = beta2 * vW[p] + (1 - beta2) * g * g;
        head.weights[p] -= (lr * (mW[p] / c1)) / (Math.sqrt(vW[p] / c2) + eps);
      }
      for (let k = 0; k < K; k++) {
        const g = gB[k] / bw + opts.lambda * (head.bias[k] - prior.bias[k]);
        mB[k] = beta1 * mB[k] + (1 - beta1) * g;
        vB[k] = beta2 * vB[k] + (1 - beta2) * g * g;
        head.bias[k] -= (lr * (mB[k] / c1)) / (Math.sqrt(vB[k] / c2) + eps);
      }
    }
    opts.onEpoch?.(epoch, lossSum / Math.max(1e-12, weightSum));
  }
  return head;
}

/** Probabilities for every example at a temperature (n x total), for evaluation and calibration. */
export function predictAll(head: Head, data: Examples, temperature = 1): Float32Array[] {
  const total = head.classes + (data.fixedCount ?? 0);
  const out: Float32Array[] = [];
  for (let i = 0; i < data.n; i++) out.push(softmaxInPlace(exampleLogits(head, data, i, new Float32Array(total)), temperature));
  return out;
}

/** Mean negative log-likelihood of the true labels at a temperature. */
export function nll(head: Head, data: Examples, temperature: number): number {
  const total = head.classes + (data.fixedCount ?? 0);
  const buf = new Float32Array(total);
  let sum = 0;
  for (let i = 0; i < data.n; i++) sum -= Math.log(Math.max(1e-12, softmaxInPlace(exampleLogits(head, data, i, buf), temperature)[data.y[i]]));
  return sum / Math.max(1, data.n);
}

/**
 * Temperature scaling: the T in [0.05, 20] that minimizes validation NLL
 * (golden-section search on log T; NLL is unimodal in T for a fixed model).
 */
export function fitTemperature(head: Head, validation: Examples): number {
  let lo = Math.log(0.05), hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  let fa = nll(head, validation, Math.exp(a)), fb = nll(head, validation, Math.exp(b));
  for (let i = 0; i < 40; i++) {
    if (fa < fb) { hi = b; b = a; fb = fa; a = hi - phi * (hi - lo); fa = nll(head, validation, Math.exp(a)); }
    else { lo = a; a = b; fa = fb; b = lo + phi * (hi - lo); fb = nll(head, validation, Math.exp(b)); }
  }
  return Math.exp((lo + hi) / 2);
}
