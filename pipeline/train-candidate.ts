/**
 * The candidate head from training items: the parent's rows, new-taxon rows
 * imprinted from the ImageNet rows the base model gives their examples, then
 * stage 1 (only the new rows, against the parent's rows and "other" held
 * fixed) and, when asked, stage 2 (every row, L2 toward the stage-1 head).
 * Shared by `retrain` and `curve`, so the curve measures the same training.
 */
import { trainHead, trainHeadWith, type Examples, type Head, type TrainOptions } from '../core/head-train.ts';
import { ortIndexedGradient } from './ort-gradient.ts';
import { batchLogits, type BaseHead } from './base-head.ts';

export interface Item {
  group: string;
  label: string;
  embedding: Float32Array;
  other: number;
  source: string;
}

export interface TrainSettings {
  /** Joint-stage epochs; 0 keeps the parent's rows as they are. */
  epochs: number;
  newTaxaEpochs?: number;
  newTaxaLearningRate?: number;
  newTaxaLambda?: number;
  /** Total weight of each new class in training (its examples share it). */
  newTaxaWeight?: number;
  learningRate?: number;
  lambda?: number;
  /** Default: defaultBatchSize(training examples). */
  batchSize?: number;
  seed?: number;
  /**
   * Where the batch gradients are computed: 'ort' (default), onnxruntime-node's threaded matrix kernels;
   * 'ts', the plain TypeScript loops (the reference, and what `bench:retrain --impl old` measures).
   */
  kernel?: 'ort' | 'ts';
  /** onnxruntime threads for the 'ort' kernel. */
  threads?: number;
  progress?: (stage: string, done: number, total: number) => void;
  log?: (line: string) => void;
}

/** Where training time went, in seconds: per stage, and within them batch gathering, gradient kernel, Adam updates. */
export interface TrainProfile {
  newTaxa: number;
  joint: number;
  gather: number;
  gradient: number;
  update: number;
  batchSize: number;
  examples: number;
}

/** The optional training settings a caller may pass on (retrain's options, the curve's). */
export type TrainingKnobs = Omit<TrainSettings, 'epochs' | 'progress' | 'log'>;

export function softmax(v: ArrayLike<number>, t = 1): Float32Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] / t > m) m = v[i] / t;
  const out = new Float32Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    out[i] = Math.exp(v[i] / t - m);
    s += out[i];
  }
  for (let i = 0; i < v.length; i++) out[i] /= s;
  return out;
}

/** Items as training examples over `classIndex` (learned rows, then the fixed "other" at the end). */
export function toExamples(xs: readonly Item[], classIndex: ReadonlyMap<string, number>, dim: number): Examples {
  const x = new Float32Array(xs.length * dim);
  xs.forEach((it, i) => x.set(it.embedding, i * dim));
  return { n: xs.length, dim, x, y: Int32Array.from(xs.map((it) => classIndex.get(it.label)!)), fixed: Float32Array.from(xs.map((it) => it.other)), fixedCount: 1 };
}

/**
 * 32 up to 3,200 examples (what every run used before), then a power of two that keeps an epoch near 100
 * steps, at most 1,024: at 100,000 examples a batch of 32 meant 3,125 Adam steps over every weight per
 * epoch, and the full schedule (40 + 10 epochs) took many minutes; 1,024 gives each epoch ~100 steps, more
 * steps in all than the 1 + 1 epochs of 256 the old schedule could afford (bench:retrain compares them).
 */
export function defaultBatchSize(examples: number): number {
  let b = 32;
  while (b < 1024 && examples / b > 100) b *= 2;
  return b;
}

/** One stage's training with the chosen kernel (an onnxruntime session per stage, released after); a pack retrain runs one too. */
export async function trainStage(data: Examples, opts: TrainOptions, s: Pick<TrainSettings, 'kernel' | 'threads'>): Promise<Head> {
  if (opts.epochs <= 0) return { ...opts.init, weights: opts.init.weights.slice(), bias: opts.init.bias.slice() };
  if (s.kernel === 'ts') return trainHead(data, opts);
  const ort = await ortIndexedGradient(opts.init.classes, data, opts.sampleWeight, s.threads ?? 2);
  try {
    return await trainHeadWith(ort.kernel, data, opts);
  } finally {
    await ort.release();
  }
}

export async function trainCandidate(
  prior: Head,
  base: BaseHead,
  parentLabels: readonly string[],
  newLabels: readonly string[],
  train: readonly Item[],
  s: TrainSettings,
): Promise<{ head: Head; seconds: number; profile: TrainProfile }> {
  const P = parentLabels.length,
    N = newLabels.length,
    K = P + N,
    D = prior.dim;
  const classIndex = new Map([...parentLabels, ...newLabels].map((l, i) => [l, i]));
  classIndex.set('other', K);
  const trainEx = toExamples(train, classIndex, D);
  const init: Head = { classes: K, dim: D, weights: new Float32Array(K * D), bias: new Float32Array(K) };
  init.weights.set(prior.weights);
  init.bias.set(prior.bias);
  newLabels.forEach((label, r) => {
    const k = P + r;
    const mine = train.filter((it) => it.label === label).slice(0, 50); // 50 examples are plenty for a starting point
    const acc = new Float64Array(D + 1);
    for (const it of mine) {
      const p = softmax(base.imagenetLogits(it.embedding));
      for (let c = 0; c < p.length; c++) {
        if (p[c] < 1e-3) continue;
        for (let j = 0; j < D; j++) acc[j] += p[c] * base.imagenet.weights[c * D + j];
        acc[D] += p[c] * base.imagenet.bias[c];
      }
    }
    for (let j = 0; j < D; j++) init.weights[k * D + j] = acc[j] / Math.max(1, mine.length);
    init.bias[k] = acc[D] / Math.max(1, mine.length);
  });
  const t0 = performance.now();
  const profile = { clock: () => performance.now(), gather: 0, gradient: 0, update: 0 };
  let t1 = t0;
  const newWeight = s.newTaxaWeight ?? 300;
  let staged: Head = init;
  if (N) {
    // Stage 1: the new rows alone, against the parent's rows and "other" held fixed, so new taxa learn to
    // win on their photos and to stay below the launch taxa and "other" elsewhere.
    const fixed = new Float32Array(trainEx.n * (P + 1));
    const priorTrain = await batchLogits(prior, trainEx.x, trainEx.n);
    for (let i = 0; i < trainEx.n; i++) {
      fixed.set(priorTrain.subarray(i * P, (i + 1) * P), i * (P + 1));
      fixed[i * (P + 1) + P] = trainEx.fixed![i];
    }
    const yNew = Int32Array.from(trainEx.y, (y) => (y >= P && y < K ? y - P : y < P ? N + y : N + P));
    const countsNew = new Map<number, number>();
    for (const y of yNew) countsNew.set(y, (countsNew.get(y) ?? 0) + 1);
    // Each new class weighs like `newTaxaWeight` examples in all, whatever its count (it is up against hundreds of "other" photos).
    const w = Float32Array.from(yNew, (y) => (y < N ? Math.max(1, newWeight / countsNew.get(y)!) : 1));
    const initNew: Head = { classes: N, dim: D, weights: init.weights.slice(P * D), bias: init.bias.slice(P) };
    const newEpochs = s.newTaxaEpochs ?? 40;
    const trainedNew = await trainStage(
      { n: trainEx.n, dim: D, x: trainEx.x, y: yNew, fixed, fixedCount: P + 1 },
      {
        init: initNew,
        lambda: s.newTaxaLambda ?? 0.3,
        epochs: newEpochs,
        learningRate: s.newTaxaLearningRate ?? 1e-3,
        batchSize: s.batchSize ?? defaultBatchSize(trainEx.n),
        seed: s.seed ?? 1,
        sampleWeight: w,
        profile,
        onEpoch: (e, loss) => {
          s.progress?.('new taxa', e + 1, newEpochs);
          if (e === newEpochs - 1) s.log?.(`new-taxa rows: loss ${loss.toFixed(4)} after ${newEpochs} epochs`);
        },
      },
      s,
    );
    staged = { ...init, weights: init.weights.slice(), bias: init.bias.slice() };
    staged.weights.set(trainedNew.weights, P * D);
    staged.bias.set(trainedNew.bias, P);
    t1 = performance.now();
  }
  // Stage 2: every row together, regularized toward the parent's rows (and the stage-1 new rows).
  const trainCounts = new Map<number, number>();
  for (const y of trainEx.y) trainCounts.set(y, (trainCounts.get(y) ?? 0) + 1);
  const sampleWeight = Float32Array.from(trainEx.y, (y) => (y === K ? 1 : y >= P ? Math.max(1, newWeight / trainCounts.get(y)!) : 1));
  const head = s.epochs
    ? await trainStage(
        trainEx,
        {
          init: staged,
          prior: staged,
          lambda: s.lambda ?? 1,
          epochs: s.epochs,
          learningRate: s.learningRate ?? 1e-4,
          batchSize: s.batchSize ?? defaultBatchSize(trainEx.n),
          seed: s.seed ?? 1,
          sampleWeight,
          profile,
          onEpoch: (e, loss) => {
            s.progress?.('train', e + 1, s.epochs);
            if (e === s.epochs - 1) s.log?.(`all rows: loss ${loss.toFixed(4)} after ${s.epochs} epochs`);
          },
        },
        s,
      )
    : staged;
  const t2 = performance.now();
  return {
    head,
    seconds: (t2 - t0) / 1000,
    profile: {
      newTaxa: (t1 - t0) / 1000,
      joint: (t2 - t1) / 1000,
      gather: profile.gather,
      gradient: profile.gradient,
      update: profile.update,
      batchSize: s.batchSize ?? defaultBatchSize(trainEx.n),
      examples: trainEx.n,
    },
  };
}
