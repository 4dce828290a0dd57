/**
 * The head-training gradient through onnxruntime-node: one small graph per
 * (classes, dim, fixed count) computes a batch's logits, softmax, weighted
 * loss and the gradient sum_i w_i (p_i - onehot_i) x_i with native, threaded
 * matrix kernels (MLAS). It is the same math as core/head-train's tsGradient
 * (ort-gradient.test.ts checks both agree), about two orders of magnitude
 * faster at 100 rows x 1,280 dimensions.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Batch, Examples, GradientKernel, Head, IndexedGradientKernel } from '../core/head-train.ts';
import { DataType, encodeModel, int64Initializer, node, onnx } from '../node/onnx-graph.ts';

const vi = (name: string, dims: Array<number | string>) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

/**
 * Inputs: x [n, D], w [K, D], b [K], fixed [n, F], yw [n, K + F] (one-hot times
 * the sample weight), sw [n, 1] (sample weights). Outputs: gw [K, D], gb [K],
 * loss [] (sum of -w log p(y)). Indexed: xall [N, D] and fixedall [N, F] (every
 * example) and rows [n] (int32) replace x and fixed, gathered in the graph.
 */
export function gradientGraph(K: number, D: number, F: number, indexed = false): Uint8Array {
  const T = K + F;
  const nodes = [
    // Indexed: every example is one input (xall [N, D], handed over without a copy) and the batch's rows are gathered natively.
    ...(indexed ? [node('Gather', ['xall', 'rows'], ['x'], { axis: 0 }), ...(F ? [node('Gather', ['fixedall', 'rows'], ['fixed'], { axis: 0 })] : [])] : []),
    node('Gemm', ['x', 'w', 'b'], ['learned'], { transB: 1 }),
    ...(F ? [node('Concat', ['learned', 'fixed'], ['z'], { axis: 1 })] : [node('Identity', ['learned'], ['z'])]),
    node('LogSoftmax', ['z'], ['logp'], { axis: 1 }),
    node('Exp', ['logp'], ['p']),
    node('Mul', ['yw', 'logp'], ['ylogp']),
    node('ReduceSum', ['ylogp'], ['neg_loss'], { keepdims: 0 }),
    node('Neg', ['neg_loss'], ['loss']),
    node('Mul', ['p', 'sw'], ['pw']),
    node('Sub', ['pw', 'yw'], ['r']),
    node('Slice', ['r', 'zero', 'k', 'one'], ['rk']),
    node('Gemm', ['rk', 'x'], ['gw'], { transA: 1 }),
    node('ReduceSum', ['rk', 'zero'], ['gb'], { keepdims: 0 }),
  ];
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: onnx.GraphProto.create({
        name: 'head_gradient',
        initializer: [int64Initializer('zero', [0]), int64Initializer('k', [K]), int64Initializer('one', [1])],
        input: [
          ...(indexed
            ? [vi('xall', ['N', D]), onnx.ValueInfoProto.create({ name: 'rows', type: { tensorType: { elemType: DataType.INT32, shape: { dim: [{ dimParam: 'n' }] } } } })]
            : [vi('x', ['n', D])]),
          vi('w', [K, D]),
          vi('b', [K]),
          ...(F ? [vi(indexed ? 'fixedall' : 'fixed', [indexed ? 'N' : 'n', F])] : []),
          vi('yw', ['n', T]),
          vi('sw', ['n', 1]),
        ],
        output: [vi('gw', [K, D]), vi('gb', [K]), vi('loss', [])],
        node: nodes,
      }),
    }),
  );
}

export interface OrtGradient {
  kernel: GradientKernel;
  release: () => Promise<void>;
}

/** A kernel for heads of `classes` rows over `dim`, with `fixedCount` fixed logits; release it when done. */
export async function ortGradient(classes: number, dim: number, fixedCount: number, threads = 2): Promise<OrtGradient> {
  const ort = await import('onnxruntime-node');
  const session: InferenceSession = await ort.InferenceSession.create(gradientGraph(classes, dim, fixedCount), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const T = classes + fixedCount;
  let yw = new Float32Array(0);
  const kernel: GradientKernel = async (head: Head, batch: Batch, gW: Float32Array, gB: Float32Array) => {
    if (head.classes !== classes || head.dim !== dim || batch.fixedCount !== fixedCount)
      throw new RangeError(`kernel built for ${classes} x ${dim} + ${fixedCount} fixed, given ${head.classes} x ${head.dim} + ${batch.fixedCount}`);
    const n = batch.n;
    if (yw.length < n * T) yw = new Float32Array(n * T);
    const y = yw.subarray(0, n * T);
    y.fill(0);
    for (let i = 0; i < n; i++) y[i * T + batch.y[i]] = batch.weight[i];
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      x: new ort.Tensor('float32', batch.x, [n, dim]),
      w: new ort.Tensor('float32', head.weights, [classes, dim]),
      b: new ort.Tensor('float32', head.bias, [classes]),
      yw: new ort.Tensor('float32', y, [n, T]),
      sw: new ort.Tensor('float32', batch.weight, [n, 1]),
    };
    if (fixedCount) feeds.fixed = new ort.Tensor('float32', batch.fixed, [n, fixedCount]);
    const out = await session.run(feeds);
    gW.set(out.gw.data as Float32Array);
    gB.set(out.gb.data as Float32Array);
    return (out.loss.data as Float32Array)[0];
  };
  return { kernel, release: () => session.release() };
}

export interface OrtIndexedGradient {
  kernel: IndexedGradientKernel;
  release: () => Promise<void>;
}

/**
 * The same gradient for a batch named by its rows of `data`: the examples go to onnxruntime once per call as
 * one tensor over the same memory (no copy), as do the fixed logits, and Gather nodes pick the batch, instead
 * of copying 1,280 floats (and up to ~100 fixed logits) per row into batch buffers in JavaScript. Labels and
 * weights (two numbers per row) are still gathered here.
 */
export async function ortIndexedGradient(classes: number, data: Examples, sampleWeight: Float32Array | undefined, threads = 2): Promise<OrtIndexedGradient> {
  const ort = await import('onnxruntime-node');
  const dim = data.dim,
    F = data.fixedCount ?? 0,
    T = classes + F;
  const session: InferenceSession = await ort.InferenceSession.create(gradientGraph(classes, dim, F, true), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const xall = new ort.Tensor('float32', data.x.subarray(0, data.n * dim), [data.n, dim]);
  const fixedall = F ? new ort.Tensor('float32', data.fixed!.subarray(0, data.n * F), [data.n, F]) : null;
  let cap = 0,
    yw = new Float32Array(0),
    sw = new Float32Array(0),
    idx = new Int32Array(0);
  const kernel = (async (head: Head, rows: Int32Array, gW: Float32Array, gB: Float32Array) => {
    if (head.classes !== classes || head.dim !== dim) throw new RangeError(`kernel built for ${classes} x ${dim}, given ${head.classes} x ${head.dim}`);
    const n = rows.length;
    if (n > cap) {
      cap = n;
      yw = new Float32Array(n * T);
      sw = new Float32Array(n);
      idx = new Int32Array(n);
    }
    const y = yw.subarray(0, n * T);
    y.fill(0);
    for (let t = 0; t < n; t++) {
      const i = rows[t];
      const w = sampleWeight?.[i] ?? 1;
      idx[t] = i;
      sw[t] = w;
      y[t * T + data.y[i]] = w;
    }
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      xall,
      rows: new ort.Tensor('int32', idx.subarray(0, n), [n]),
      w: new ort.Tensor('float32', head.weights, [classes, dim]),
      b: new ort.Tensor('float32', head.bias, [classes]),
      yw: new ort.Tensor('float32', y, [n, T]),
      sw: new ort.Tensor('float32', sw.subarray(0, n), [n, 1]),
    };
    if (fixedall) feeds.fixedall = fixedall;
    const out = await session.run(feeds);
    gW.set(out.gw.data as Float32Array);
    gB.set(out.gb.data as Float32Array);
    return (out.loss.data as Float32Array)[0];
  }) as IndexedGradientKernel;
  kernel.indexed = true;
  return { kernel, release: () => session.release() };
}
