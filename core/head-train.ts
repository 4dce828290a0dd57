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
  /**
   * With a clock (milliseconds, e.g. performance.now; core has no timer of its own), time spent gathering
   * batches, in the gradient kernel and in the Adam updates is added here, in seconds.
   */
  profile?: { clock: () => number; gather: number; gradient: number; update: number };
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
  for (let i = 0; i < v.length; i++) {
    v[i] = Math.exp(v[i] / temperature - max);
    sum += v[i];
  }
  for (let i = 0; i < v.length; i++) v[i] /= sum;
  return v;
}

/**
 * One mini-batch, gathered contiguously: what a gradient kernel sees. `fixed`
 * holds each example's fixed logits (n x fixedCount), `weight` its sample weight.
 */
export interface Batch {
  n: number;
  x: Float32Array;
  y: Int32Array;
  fixed: Float32Array;
  fixedCount: number;
  weight: Float32Array;
}

/**
 * The weighted cross-entropy gradient of a batch: fills gW (classes x dim)
 * and gB with sum_i w_i (p_i - onehot_i) x_i over the learned classes, and
 * returns sum_i -w_i log p_i(y_i). The pure-TypeScript one is below;
 * pipeline/ort-gradient.ts computes the same with onnxruntime-node's threaded
 * matrix kernels, which is what makes 100,000 examples quick.
 */
export type GradientKernel = (head: Head, batch: Batch, gW: Float32Array, gB: Float32Array) => number | Promise<number>;

/**
 * A kernel bound to the training examples that takes a batch as their row numbers (in batch order) rather
 * than copied rows, and gathers them itself (pipeline/ort-gradient's ortIndexedGradient, natively).
 */
export type IndexedGradientKernel = ((head: Head, rows: Int32Array, gW: Float32Array, gB: Float32Array) => number | Promise<number>) & { indexed: true };

/** The reference kernel: one example at a time, in plain loops (fine for thousands of examples). */
export function tsGradient(head: Head, batch: Batch, gW: Float32Array, gB: Float32Array): number {
  const { classes: K, dim: D } = head;
  const F = batch.fixedCount;
  const logits = new Float32Array(K + F);
  gW.fill(0);
  gB.fill(0);
  let loss = 0;
  for (let i = 0; i < batch.n; i++) {
    const w = batch.weight[i];
    const xo = i * D;
    for (let k = 0; k < K; k++) {
      let s = head.bias[k];
      const wo = k * D;
      for (let j = 0; j < D; j++) s += head.weights[wo + j] * batch.x[xo + j];
      logits[k] = s;
    }
    for (let k = 0; k < F; k++) logits[K + k] = batch.fixed[i * F + k];
    softmaxInPlace(logits);
    loss -= w * Math.log(Math.max(1e-12, logits[batch.y[i]]));
    for (let k = 0; k < K; k++) {
      const g = w * (logits[k] - (k === batch.y[i] ? 1 : 0));
      if (g === 0) continue;
      gB[k] += g;
      const wo = k * D;
      for (let j = 0; j < D; j++) gW[wo + j] += g * batch.x[xo + j];
    }
  }
  return loss;
}

/** Validates the examples and sets up the shuffling, batches and Adam state shared by both trainers. */
function trainer(data: Examples, opts: TrainOptions) {
  const head = cloneHead(opts.init);
  const prior = opts.prior ?? opts.init;
  const { classes: K, dim: D } = head;
  if (data.dim !== D) throw new RangeError(`examples have ${data.dim} dimensions, the head ${D}`);
  const F = data.fixedCount ?? 0;
  const total = K + F;
  for (let i = 0; i < data.n; i++) if (data.y[i] < 0 || data.y[i] >= total) throw new RangeError(`label ${data.y[i]} of example ${i} is outside 0..${total - 1}`);
  const rand = seededRandom(opts.seed ?? 1);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const gW = new Float32Array(K * D);
  const gB = new Float32Array(K);
  const mW = new Float32Array(K * D),
    vW = new Float32Array(K * D);
  const mB = new Float32Array(K),
    vB = new Float32Array(K);
  const B = Math.max(1, opts.batchSize);
  const batch: Batch = { n: B, x: new Float32Array(B * D), y: new Int32Array(B), fixed: new Float32Array(B * F), fixedCount: F, weight: new Float32Array(B) };
  let current: Batch = batch;
  const beta1 = 0.9,
    beta2 = 0.999,
    eps = 1e-8;
  let step = 0;
  return {
    head,
    gW,
    gB,
    shuffle() {
      for (let i = data.n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    },
    /** The batch of shuffled positions [start, end), copied contiguously; returns its weight sum. */
    gather(start: number, end: number): number {
      const n = end - start;
      let bw = 0;
      for (let t = 0; t < n; t++) {
        const i = order[start + t];
        batch.x.set(data.x.subarray(i * D, (i + 1) * D), t * D);
        if (F) batch.fixed.set(data.fixed!.subarray(i * F, (i + 1) * F), t * F);
        batch.y[t] = data.y[i];
        const w = opts.sampleWeight?.[i] ?? 1;
        batch.weight[t] = w;
        bw += w;
      }
      // A short last batch: views of the right length, so a kernel never reads stale rows.
      current = n === B ? batch : { n, x: batch.x.subarray(0, n * D), y: batch.y.subarray(0, n), fixed: batch.fixed.subarray(0, n * F), fixedCount: F, weight: batch.weight.subarray(0, n) };
      return bw;
    },
    get batch() {
      return current;
    },
    /** The batch of shuffled positions [start, end) as row numbers, and its weight sum, for an indexed kernel. */
    rows(start: number, end: number): { rows: Int32Array; bw: number } {
      const rows = order.subarray(start, end);
      let bw = 0;
      for (let t = 0; t < rows.length; t++) bw += opts.sampleWeight?.[rows[t]] ?? 1;
      return { rows, bw };
    },
    /** Adam on mean gradient + lambda (W - W0), in place on the head. */
    adam(bw: number) {
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      const lr = opts.learningRate;
      const w = head.weights,
        pw = prior.weights,
        lambda = opts.lambda;
      for (let p = 0; p < K * D; p++) {
        const g = gW[p] / bw + lambda * (w[p] - pw[p]);
        mW[p] = beta1 * mW[p] + (1 - beta1) * g;
        vW[p] = beta2 * vW[p] + (1 - beta2) * g * g;
        w[p] -= (lr * (mW[p] / c1)) / (Math.sqrt(vW[p] / c2) + eps);
      }
      for (let k = 0; k < K; k++) {
        const g = gB[k] / bw + lambda * (head.bias[k] - prior.bias[k]);
        mB[k] = beta1 * mB[k] + (1 - beta1) * g;
        vB[k] = beta2 * vB[k] + (1 - beta2) * g * g;
        head.bias[k] -= (lr * (mB[k] / c1)) / (Math.sqrt(vB[k] / c2) + eps);
      }
    },
  };
}

/** What the caller hands back for a batch: its weight, the loss its kernel returned, and the clock when the gather ended. */
interface BatchDone {
  bw: number;
  loss: number;
  t1: number;
}

/**
 * The epochs both trainers run, one place for the shuffles, the Adam steps,
 * the epoch losses and the profile: yields each batch's rows [start, end) of
 * this epoch's order and resumes once the caller has gathered them and run
 * its kernel, sync or async (a generator serves both).
 */
function* epochs(t: ReturnType<typeof trainer>, data: Examples, opts: TrainOptions): Generator<{ start: number; end: number }, void, BatchDone> {
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    t.shuffle();
    let lossSum = 0,
      weightSum = 0;
    for (let start = 0; start < data.n; start += opts.batchSize) {
      const p = opts.profile;
      const t0 = p?.clock() ?? 0;
      const { bw, loss, t1 } = yield { start, end: Math.min(data.n, start + opts.batchSize) };
      lossSum += loss;
      const t2 = p?.clock() ?? 0;
      weightSum += bw;
      t.adam(bw);
      if (p) {
        const t3 = p.clock();
        p.gather += (t1 - t0) / 1000;
        p.gradient += (t2 - t1) / 1000;
        p.update += (t3 - t2) / 1000;
      }
    }
    opts.onEpoch?.(epoch, lossSum / Math.max(1e-12, weightSum));
  }
}

/** Mini-batch Adam on the regularized cross-entropy, with the TypeScript kernel. Returns the trained head; init is not changed. */
export function trainHead(data: Examples, opts: TrainOptions): Head {
  const t = trainer(data, opts);
  const run = epochs(t, data, opts);
  for (let next = run.next(); !next.done;) {
    const bw = t.gather(next.value.start, next.value.end);
    const t1 = opts.profile?.clock() ?? 0;
    next = run.next({ bw, t1, loss: tsGradient(t.head, t.batch, t.gW, t.gB) });
  }
  return t.head;
}

/**
 * The same training with any gradient kernel (e.g. onnxruntime's): same shuffles, batches and Adam steps. An
 * indexed kernel (bound to `data`) is handed each batch's row numbers and gathers the rows itself.
 */
export async function trainHeadWith(kernel: GradientKernel | IndexedGradientKernel, data: Examples, opts: TrainOptions): Promise<Head> {
  const t = trainer(data, opts);
  const run = epochs(t, data, opts);
  for (let next = run.next(); !next.done;) {
    const { start, end } = next.value;
    // An indexed kernel's own gathering (inside the call) counts as gradient time.
    const indexed = 'indexed' in kernel ? t.rows(start, end) : null;
    const bw = indexed ? indexed.bw : t.gather(start, end);
    const t1 = opts.profile?.clock() ?? 0;
    const loss = await (indexed ? (kernel as IndexedGradientKernel)(t.head, indexed.rows, t.gW, t.gB) : (kernel as GradientKernel)(t.head, t.batch, t.gW, t.gB));
    next = run.next({ bw, t1, loss });
  }
  return t.head;
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
 * The logits do not depend on T: they are computed once, not at each of the
 * 80 trial temperatures.
 */
export function fitTemperature(head: Head, validation: Examples): number {
  const total = head.classes + (validation.fixedCount ?? 0);
  const logits = new Float32Array(validation.n * total);
  for (let i = 0; i < validation.n; i++) exampleLogits(head, validation, i, logits.subarray(i * total, (i + 1) * total));
  const buf = new Float32Array(total);
  const nllAt = (temperature: number) => {
    let sum = 0;
    for (let i = 0; i < validation.n; i++) {
      buf.set(logits.subarray(i * total, (i + 1) * total));
      sum -= Math.log(Math.max(1e-12, softmaxInPlace(buf, temperature)[validation.y[i]]));
    }
    return sum / Math.max(1, validation.n);
  };
  let lo = Math.log(0.05),
    hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo),
    b = lo + phi * (hi - lo);
  let fa = nllAt(Math.exp(a)),
    fb = nllAt(Math.exp(b));
  for (let i = 0; i < 40; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = nllAt(Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = nllAt(Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}
