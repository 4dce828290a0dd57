/**
 * The current model's classifier as float numbers, read from its ONNX file:
 * MobileNetV2-int8 ends in QLinearMatMul(472_quantized, classifier.1.weight_quantized
 * [1280,1000] int8, per-class scale/zero point) then QLinearAdd with
 * classifier.1.bias_quantized. Dequantized, logits = embedding . W + b, which
 * reproduces the model's (requantized) ImageNet logits up to its output
 * quantization step.
 */
import { DataType, decodeModel, encodeModel, floatInitializer, graphOf, node, onnx, tensorValues } from '../node/onnx-graph.ts';
import type { Examples, Head } from '../core/head-train.ts';

export const CLASSIFIER = {
  weight: 'classifier.1.weight_quantized',
  weightScale: 'classifier.1.weight_scale',
  weightZero: 'classifier.1.weight_zero_point',
  bias: 'classifier.1.bias_quantized',
  biasScale: 'classifier.1.bias_scale',
  biasZero: 'classifier.1.bias_zero_point',
} as const;

/** The full 1000-class float head of a MobileNetV2-int8 species model (or its zoo base). */
export function imagenetFloatHead(modelBytes: Uint8Array): Head {
  const g = graphOf(decodeModel(modelBytes));
  const init = new Map(g.initializer.map((t) => [t.name!, t]));
  const get = (name: string) => {
    const t = init.get(name);
    if (!t) throw new Error(`the model has no initializer ${name}: only MobileNetV2-int8 based versions can be retrained`);
    return t;
  };
  const wt = get(CLASSIFIER.weight);
  const [dim, classes] = (wt.dims ?? []).map(Number);
  const wq = tensorValues(wt);
  const ws = tensorValues(get(CLASSIFIER.weightScale));
  const wz = tensorValues(get(CLASSIFIER.weightZero));
  const bq = tensorValues(get(CLASSIFIER.bias));
  const bs = tensorValues(get(CLASSIFIER.biasScale))[0];
  const bz = tensorValues(get(CLASSIFIER.biasZero))[0];
  const weights = new Float32Array(classes * dim);
  for (let j = 0; j < dim; j++) for (let k = 0; k < classes; k++) weights[k * dim + j] = (wq[j * classes + k] - wz[k]) * ws[k];
  const bias = new Float32Array(classes);
  for (let k = 0; k < classes; k++) bias[k] = (bq[k] - bz) * bs;
  return { classes, dim, weights, bias };
}

/** Rows `indices` of a head, in that order. */
export function selectRows(head: Head, indices: readonly number[]): Head {
  const { dim } = head;
  const weights = new Float32Array(indices.length * dim);
  const bias = new Float32Array(indices.length);
  indices.forEach((k, r) => {
    weights.set(head.weights.subarray(k * dim, (k + 1) * dim), r * dim);
    bias[r] = head.bias[k];
  });
  return { classes: indices.length, dim, weights, bias };
}

/** head . x + b for one embedding. */
export function headLogits(head: Head, x: ArrayLike<number>, out = new Float32Array(head.classes)): Float32Array {
  const { dim } = head;
  for (let k = 0; k < head.classes; k++) {
    let s = head.bias[k];
    const o = k * dim;
    for (let j = 0; j < dim; j++) s += head.weights[o + j] * x[j];
    out[k] = s;
  }
  return out;
}

export function logSumExp(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] - m);
  return m + Math.log(s);
}

/**
 * The base model's view of an embedding: the float ImageNet head, the
 * launch rows, and the fixed "other" logit (log-sum-exp of the non-launch
 * rows) for examples where only the embedding is known (corrections).
 */
export class BaseHead {
  readonly imagenet: Head;
  readonly launch: Head;
  readonly otherRows: Head;
  constructor(
    modelBytes: Uint8Array,
    readonly launchIndices: readonly number[],
  ) {
    this.imagenet = imagenetFloatHead(modelBytes);
    const launch = new Set(launchIndices);
    this.launch = selectRows(this.imagenet, launchIndices);
    this.otherRows = selectRows(
      this.imagenet,
      Array.from({ length: this.imagenet.classes }, (_, i) => i).filter((i) => !launch.has(i)),
    );
  }
  otherLogit(x: ArrayLike<number>): number {
    return logSumExp(headLogits(this.otherRows, x));
  }
  imagenetLogits(x: ArrayLike<number>): Float32Array {
    return headLogits(this.imagenet, x);
  }
}

/**
 * head . x + b for n embeddings at once, with onnxruntime-node's matrix
 * multiply (a one-node graph): the pure-TypeScript loop is fine for hundreds
 * of examples, this one for 100,000.
 */
export async function batchLogits(head: Head, x: Float32Array, n: number): Promise<Float32Array> {
  return runHead(head, x, n, false);
}

/**
 * core/head-train's predictAll (probabilities at a temperature, learned logits then the fixed ones) with the
 * matrix product through onnxruntime-node: 20,000 held-out corrections are a few seconds of plain loops.
 */
export async function batchPredict(head: Head, data: Examples, temperature = 1): Promise<Float32Array[]> {
  const logits = await batchLogits(head, data.x, data.n);
  const K = head.classes,
    F = data.fixedCount ?? 0;
  const out: Float32Array[] = [];
  for (let i = 0; i < data.n; i++) {
    const v = new Float32Array(K + F);
    v.set(logits.subarray(i * K, (i + 1) * K));
    for (let k = 0; k < F; k++) v[K + k] = data.fixed![i * F + k];
    let max = -Infinity;
    for (let k = 0; k < v.length; k++) if (v[k] / temperature > max) max = v[k] / temperature;
    let sum = 0;
    for (let k = 0; k < v.length; k++) {
      v[k] = Math.exp(v[k] / temperature - max);
      sum += v[k];
    }
    for (let k = 0; k < v.length; k++) v[k] /= sum;
    out.push(v);
  }
  return out;
}

/**
 * log-sum-exp over the rows of head . x + b for n embeddings: the fixed "other" logit of 100,000 corrections
 * in one pass, without handing 900 logits per correction back to JavaScript.
 */
export async function batchLogSumExp(head: Head, x: Float32Array, n: number): Promise<Float32Array> {
  return runHead(head, x, n, true);
}

async function runHead(head: Head, x: Float32Array, n: number, reduce: boolean): Promise<Float32Array> {
  const ort = await import('onnxruntime-node');
  const { classes: K, dim: D } = head;
  const W = reduce ? 1 : K;
  const wt = new Float32Array(D * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) wt[j * K + k] = head.weights[k * D + j];
  const vi = (name: string, width: number) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'n' }, { dimValue: width }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create({
      name: 'head',
      initializer: [floatInitializer('w', [D, K], wt), floatInitializer('b', [K], head.bias)],
      input: [vi('x', D)],
      output: [vi('y', W)],
      node: [
        onnx.NodeProto.create({ opType: 'MatMul', input: ['x', 'w'], output: ['m'] }),
        onnx.NodeProto.create({ opType: 'Add', input: ['m', 'b'], output: [reduce ? 'l' : 'y'] }),
        ...(reduce ? [node('ReduceLogSumExp', ['l'], ['y'], { axes: [1], keepdims: 1 })] : []),
      ],
    }),
  });
  const session = await ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 2 });
  const out = new Float32Array(n * W);
  const chunk = 4096;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const r = await session.run({ x: new ort.Tensor('float32', x.subarray(s * D, (s + m) * D), [m, D]) });
    out.set(r.y.data as Float32Array, s * W);
  }
  await session.release();
  return out;
}
