/**
 * The candidate head from training items: the parent's rows, new-taxon rows
 * imprinted from the ImageNet rows the base model gives their examples, then
 * stage 1 (only the new rows, against the parent's rows and "other" held
 * fixed) and, when asked, stage 2 (every row, L2 toward the stage-1 head).
 * Shared by `retrain` and `curve`, so the curve measures the same training.
 */
import { trainHead, type Examples, type Head } from '../core/head-train.ts';
import { batchLogits, type BaseHead } from './base-head.ts';

export interface Item { group: string; label: string; embedding: Float32Array; other: number; source: string }

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
  batchSize?: number;
  seed?: number;
  progress?: (stage: string, done: number, total: number) => void;
  log?: (line: string) => void;
}

/** The optional training settings a caller may pass on (retrain's options, the curve's). */
export type TrainingKnobs = Omit<TrainSettings, 'epochs' | 'progress' | 'log'>;

export function softmax(v: ArrayLike<number>, t = 1): Float32Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] / t > m) m = v[i] / t;
  const out = new Float32Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) { out[i] = Math.exp(v[i] / t - m); s += out[i]; }
  for (let i = 0; i < v.length; i++) out[i] /= s;
  return out;
}

/** Items as training examples over `classIndex` (learned rows, then the fixed "other" at the end). */
export function toExamples(xs: readonly Item[], classIndex: ReadonlyMap<string, number>, dim: number): Examples {
  const x = new Float32Array(xs.length * dim);
  xs.forEach((it, i) => x.set(it.embedding, i * dim));
  return { n: xs.length, dim, x, y: Int32Array.from(xs.map((it) => classIndex.get(it.label)!)), fixed: Float32Array.from(xs.map((it) => it.other)), fixedCount: 1 };
}

export async function trainCandidate(prior: Head, base: BaseHead, parentLabels: readonly string[], newLabels: readonly string[], train: readonly Item[], s: TrainSettings): Promise<{ head: Head; seconds: number }> {
  const P = parentLabels.length, N = newLabels.length, K = P + N, D = prior.dim;
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
    const trainedNew = trainHead({ n: trainEx.n, dim: D, x: trainEx.x, y: yNew, fixed, fixedCount: P + 1 }, {
      init: initNew, lambda: s.newTaxaLambda ?? 0.3, epochs: newEpochs, learningRate: s.newTaxaLearningRate ?? 1e-3, batchSize: s.batchSize ?? 32, seed: s.seed ?? 1, sampleWeight: w,
      onEpoch: (e, loss) => { s.progress?.('new taxa', e + 1, newEpochs); if (e === newEpochs - 1) s.log?.(`new-taxa rows: loss ${loss.toFixed(4)} after ${newEpochs} epochs`); },
    });
    staged = { ...init, weights: init.weights.slice(), bias: init.bias.slice() };
    staged.weights.set(trainedNew.weights, P * D);
    staged.bias.set(trainedNew.bias, P);
  }
  // Stage 2: every row together, regularized toward the parent's rows (and the stage-1 new rows).
  const trainCounts = new Map<number, number>();
  for (const y of trainEx.y) trainCounts.set(y, (trainCounts.get(y) ?? 0) + 1);
  const sampleWeight = Float32Array.from(trainEx.y, (y) => (y === K ? 1 : y >= P ? Math.max(1, newWeight / trainCounts.get(y)!) : 1));
  const head = s.epochs ? trainHead(trainEx, {
    init: staged, prior: staged, lambda: s.lambda ?? 1, epochs: s.epochs, learningRate: s.learningRate ?? 1e-4, batchSize: s.batchSize ?? 32, seed: s.seed ?? 1, sampleWeight,
    onEpoch: (e, loss) => { s.progress?.('train', e + 1, s.epochs); if (e === s.epochs - 1) s.log?.(`all rows: loss ${loss.toFixed(4)} after ${s.epochs} epochs`); },
  }) : staged;
  return { head, seconds: (performance.now() - t0) / 1000 };
}
