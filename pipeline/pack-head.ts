/**
 * A species pack's classifier as float numbers, and a pack graph with a
 * float head. The converter (node/tflite/to-onnx.ts) writes the pack's
 * FULLY_CONNECTED as a 1x1 QLinearConv over the pooled features: uint8
 * weights [classes, 1280, 1, 1] with one scale and zero point, an int32 bias
 * at scale x_scale * w_scale, then Reshape and DequantizeLinear into
 * `logits`. Dequantized, logits = embedding . W^T + b, where `embedding` is
 * the graph's own (dequantized) pooled output: exactly the classifier's
 * input, so the float head reproduces the pack's logits up to their output
 * quantization step. The export swaps that tail for MatMul + Add on the
 * same `embedding`, keeping the input and both output names.
 */
import type { Head } from '../core/head-train.ts';
import { decodeModel, encodeModel, floatInitializer, floatOutput, graphOf, node, tensorValues, type Graph } from '../node/onnx-graph.ts';

export const PACK_HEAD_W = 'wildsight_pack_head_wt';
export const PACK_HEAD_B = 'wildsight_pack_head_b';
const MATMUL_OUT = 'wildsight_pack_head_mm';

type GraphNode = Graph['node'][number];

/**
 * The nodes from `logits` back to the classifier (the QLinearConv), last first, and that classifier; the walk
 * stops at `embedding` (a float head an earlier export put there reads it directly).
 */
function classifierTail(g: Graph, logits: string, embedding?: string): { tail: GraphNode[]; conv: GraphNode | null } {
  const producer = new Map<string, GraphNode>();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const tail: GraphNode[] = [];
  let name = logits;
  for (let i = 0; i < 8; i++) {
    const n = producer.get(name);
    if (!n || name === embedding) break;
    tail.push(n);
    if (n.opType === 'QLinearConv') return { tail, conv: n };
    name = n.input[0];
  }
  return { tail, conv: null };
}

/** The float head a pack graph computes: dequantized from its QLinearConv classifier, or a head an earlier retrain put there. */
export function packFloatHead(bytes: Uint8Array, names: { logits: string } = { logits: 'logits' }): Head {
  const g = graphOf(decodeModel(bytes));
  const init = new Map(g.initializer.map((t) => [t.name!, t]));
  const spliced = init.get(PACK_HEAD_W);
  if (spliced) {
    const [dim, classes] = (spliced.dims ?? []).map(Number);
    const wt = tensorValues(spliced);
    const weights = new Float32Array(classes * dim);
    for (let j = 0; j < dim; j++) for (let k = 0; k < classes; k++) weights[k * dim + j] = wt[j * classes + k];
    return { classes, dim, weights, bias: Float32Array.from(tensorValues(init.get(PACK_HEAD_B)!)) };
  }
  const { conv } = classifierTail(g, names.logits);
  if (!conv) throw new Error(`the pack graph's ${names.logits} does not come from a QLinearConv classifier: not a pack from node/tflite`);
  const get = (i: number) => {
    const t = init.get(conv.input[i]);
    if (!t) throw new Error(`the pack classifier's input ${i} (${conv.input[i]}) is not a constant`);
    return t;
  };
  const wt = get(3);
  const [classes, dim, kh, kw] = (wt.dims ?? []).map(Number);
  if (kh !== 1 || kw !== 1) throw new Error(`the pack classifier is a ${kh}x${kw} convolution, not 1x1`);
  const xScale = tensorValues(get(1))[0];
  const wScale = tensorValues(get(4));
  const wZero = tensorValues(get(5));
  if (wScale.length !== 1 || wZero.length !== 1) throw new Error('the pack classifier has per-channel weight quantization, which the converter never writes');
  const wq = tensorValues(wt);
  const weights = new Float32Array(classes * dim);
  for (let p = 0; p < classes * dim; p++) weights[p] = (wq[p] - wZero[0]) * wScale[0];
  const bias = new Float32Array(classes);
  if (conv.input[8]) {
    const bq = tensorValues(get(8));
    for (let k = 0; k < classes; k++) bias[k] = bq[k] * xScale * wScale[0];
  }
  return { classes, dim, weights, bias };
}

/** Removes nodes whose outputs nobody reads (nor the graph) and initializers no node reads, until none is left. */
function pruneDead(g: Graph) {
  for (;;) {
    const read = new Set([...g.node.flatMap((n) => n.input), ...g.output.map((o) => o.name!)]);
    const before = g.node.length;
    g.node = g.node.filter((n) => n.output.some((o) => read.has(o)));
    if (g.node.length === before) break;
  }
  const read = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => read.has(t.name!));
}

/**
 * The parent pack graph with its logits computed by a float head: logits = MatMul(embedding, W^T) + b. The
 * quantized classifier tail (or a previous float head) goes; input, `embedding` and the logits' name stay.
 */
export function exportPackWithHead(parentBytes: Uint8Array, head: Head, opts: { logits: string; embedding: string; version: string; note: string }): Uint8Array {
  const model = decodeModel(parentBytes);
  const g = graphOf(model);
  if (!g.output.some((o) => o.name === opts.embedding)) throw new Error(`the pack graph has no ${opts.embedding} output`);
  const { tail, conv } = classifierTail(g, opts.logits, opts.embedding);
  const spliced = g.initializer.some((t) => t.name === PACK_HEAD_W);
  if (!conv && !spliced) throw new Error(`the pack graph's ${opts.logits} does not come from a QLinearConv classifier`);
  const drop = new Set(tail);
  g.node = g.node.filter((n) => !drop.has(n));
  g.initializer = g.initializer.filter((t) => t.name !== PACK_HEAD_W && t.name !== PACK_HEAD_B);
  const { classes: K, dim: D } = head;
  const wt = new Float32Array(D * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) wt[j * K + k] = head.weights[k * D + j];
  g.initializer.push(floatInitializer(PACK_HEAD_W, [D, K], wt), floatInitializer(PACK_HEAD_B, [K], head.bias));
  g.node.push(node('MatMul', [opts.embedding, PACK_HEAD_W], [MATMUL_OUT]), node('Add', [MATMUL_OUT, PACK_HEAD_B], [opts.logits]));
  const embOut = g.output.find((o) => o.name === opts.embedding)!;
  g.output = [floatOutput(opts.logits, 'batch', K), embOut];
  pruneDead(g);
  model.producerName = 'wildsight pipeline retrain --pack';
  model.docString = `Wildsight species pack ${opts.version}: ${opts.note}`;
  model.metadataProps = [...(model.metadataProps ?? []).filter((p) => p.key !== 'wildsight.version'), { key: 'wildsight.version', value: opts.version }];
  return encodeModel(model);
}
