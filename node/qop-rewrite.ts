/**
 * What the two rewrites of the QOperator int8 graph (qdq-graph.ts to QDQ,
 * float-graph.ts to float activations) share: their working state, the ops
 * they carry to opset 13 the same way, and the checks on the ops they pass
 * through unchanged. Each rewrite keeps its own per-op rules.
 */
import { graphOf, int64Initializer, node, type ModelProto } from './onnx-graph.ts';

export type ITensorProto = import('onnx-proto').onnx.ITensorProto;
export type GraphNode = ReturnType<typeof graphOf>['node'][number];

/** Per-axis DequantizeLinear (the int8 weights' per-channel scales) needs opset 13; both rewrites move the graph there. */
export const OPSET = 13;

/** Ops this graph could hold whose inputs or attributes differ between opsets 12 and 13. */
export const OPSET_13_CHANGED = new Set(['Squeeze', 'Split', 'ReduceSum', 'Softmax', 'LogSoftmax', 'Hardmax', 'Resize', 'Pad']);

/** A rewrite under way: the graph, its initializers by name, the nodes written so far, the initializers to add, and a count per rewritten op. */
export function rewriteState(model: ModelProto) {
  const g = graphOf(model);
  return {
    g,
    inits: new Map(g.initializer.map((t) => [t.name!, t])),
    out: [] as GraphNode[],
    extra: [] as ITensorProto[],
    rewritten: {} as Record<string, number>,
  };
}

/** QLinearGlobalAveragePool is rewritten for channels-first input only (what the graph holds). */
export function assertChannelsFirst(n: GraphNode): void {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- onnx-proto types int64 fields as a global `Long` it never declares, so they read as unresolved
  const channelsLast = n.attribute?.find((x) => x.name === 'channels_last')?.i;
  if (channelsLast && Number(channelsLast) !== 0) throw new Error('QLinearGlobalAveragePool with channels_last is not supported');
}

/**
 * An Unsqueeze at opset 13, which takes the axes as an input instead of an
 * attribute: the new node (its axes added to `extra`) reading `input`, or
 * null when the node has no axes attribute and needs no change.
 */
export function opset13Unsqueeze(n: GraphNode, input: string, extra: ITensorProto[]): GraphNode | null {
  const axes = n.attribute?.find((x) => x.name === 'axes');
  if (!axes) return null;
  const name = `${n.output[0]}__axes`;
  extra.push(int64Initializer(name, (axes.ints ?? []).map(Number)));
  return node('Unsqueeze', [input, name], [n.output[0]]);
}

/** Refuses an op kept as it is that the rewrite (`what`: "QDQ", "float") cannot carry to opset 13. */
export function assertPassThrough(n: GraphNode, what: string): void {
  if (n.domain && n.domain !== 'ai.onnx') throw new Error(`${n.opType} (${n.domain}) has no ${what} rewrite`);
  if (OPSET_13_CHANGED.has(n.opType!)) throw new Error(`${n.opType} changed in opset 13; rewrite it before moving the graph to opset ${OPSET}`);
}
