/**
 * The candidate's ONNX graph: the current version's graph with its species
 * logits replaced by a float head, logits = Concat(MatMul(embedding, W^T) + b,
 * other) / T, where "other" stays the base model's fixed log-sum-exp of the
 * non-launch ImageNet logits. Input and output names do not change.
 */
import { decodeModel, encodeModel, graphOf, node, floatOutput, floatInitializer, tensorValues } from '../node/onnx-graph.ts';
import type { Head } from '../core/head-train.ts';

export const HEAD_W = 'wildsight_head_wt';
export const HEAD_B = 'wildsight_head_b';
const OTHER = 'wildsight_other_logit';
const SPECIES = 'wildsight_species_logits';
const RAW = 'wildsight_logits_raw';
const INV_T = 'wildsight_inverse_temperature';

/** The float head a previous retrain spliced into `bytes`, or null for a graph straight from models:build. */
export function splicedHead(bytes: Uint8Array): Head | null {
  const g = graphOf(decodeModel(bytes));
  const wt = g.initializer.find((t) => t.name === HEAD_W);
  const b = g.initializer.find((t) => t.name === HEAD_B);
  if (!wt || !b) return null;
  const [dim, classes] = (wt.dims ?? []).map(Number);
  const w = tensorValues(wt);
  const weights = new Float32Array(classes * dim);
  for (let j = 0; j < dim; j++) for (let k = 0; k < classes; k++) weights[k * dim + j] = w[j * classes + k];
  return { classes, dim, weights, bias: Float32Array.from(tensorValues(b)) };
}

export function exportWithHead(parentBytes: Uint8Array, head: Head, opts: { temperature: number; version: string; labelsSha256: string; embeddingName?: string; logitsName?: string }): Uint8Array {
  const model = decodeModel(parentBytes);
  const g = graphOf(model);
  const emb = opts.embeddingName ?? 'embedding';
  const logits = opts.logitsName ?? 'logits';
  if (!g.node.some((n) => n.output.includes(OTHER))) throw new Error(`the parent graph has no ${OTHER}: not a Wildsight species model`);
  const drop = new Set([logits, SPECIES, RAW, `${SPECIES}_mm`]);
  g.node = g.node.filter((n) => !n.output.some((o) => drop.has(o)));
  const dropInit = new Set(['wildsight_species_idx', HEAD_W, HEAD_B, INV_T]);
  g.initializer = g.initializer.filter((t) => !dropInit.has(t.name!));
  const { classes: K, dim: D } = head;
  const wt = new Float32Array(D * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) wt[j * K + k] = head.weights[k * D + j];
  g.initializer.push(floatInitializer(HEAD_W, [D, K], wt), floatInitializer(HEAD_B, [K], head.bias), floatInitializer(INV_T, [], Float32Array.of(1 / opts.temperature)));
  g.node.push(
    node('MatMul', [emb, HEAD_W], [`${SPECIES}_mm`]),
    node('Add', [`${SPECIES}_mm`, HEAD_B], [SPECIES]),
    node('Concat', [SPECIES, OTHER], [RAW], { axis: 1 }),
    node('Mul', [RAW, INV_T], [logits]),
  );
  const embOut = g.output.find((o) => o.name === emb)!;
  g.output = [floatOutput(logits, 'batch_size', K + 1), embOut];
  model.producerName = 'wildsight pipeline retrain';
  model.docString = `Wildsight species model ${opts.version}: retrained head (${K} learned classes + other), temperature ${opts.temperature.toFixed(4)}`;
  model.metadataProps = [
    ...(model.metadataProps ?? []).filter((p) => !['wildsight.version', 'wildsight.labels_sha256', 'wildsight.temperature'].includes(p.key!)),
    { key: 'wildsight.version', value: opts.version },
    { key: 'wildsight.labels_sha256', value: opts.labelsSha256 },
    { key: 'wildsight.temperature', value: String(opts.temperature) },
  ];
  return encodeModel(model);
}

/** What the exported graph should compute from an embedding and the fixed other logit. */
export function expectedLogits(head: Head, embedding: ArrayLike<number>, other: number, temperature: number): Float32Array {
  const out = new Float32Array(head.classes + 1);
  for (let k = 0; k < head.classes; k++) {
    let s = head.bias[k];
    for (let j = 0; j < head.dim; j++) s += head.weights[k * head.dim + j] * embedding[j];
    out[k] = s / temperature;
  }
  out[head.classes] = other / temperature;
  return out;
}

/** Runs the exported graph on input tensors with onnxruntime-node and onnxruntime-web (WASM) and compares logits. */
export async function crossRuntimeCheck(
  bytes: Uint8Array,
  inputs: Float32Array,
  n: number,
  size: number,
  inputName = 'input',
): Promise<{ node: Float32Array; web: Float32Array; embedding: Float32Array; maxAbsDiff: number }> {
  const ortNode = await import('onnxruntime-node');
  const ortWeb = await import('onnxruntime-web');
  ortWeb.env.wasm.numThreads = 1;
  const sNode = await ortNode.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const sWeb = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const a = await sNode.run({ [inputName]: new ortNode.Tensor('float32', inputs, [n, 3, size, size]) });
  const b = await sWeb.run({ [inputName]: new ortWeb.Tensor('float32', inputs, [n, 3, size, size]) });
  const la = a.logits.data as Float32Array,
    lb = b.logits.data as Float32Array;
  let maxAbsDiff = 0;
  for (let i = 0; i < la.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(la[i] - lb[i]));
  await sNode.release();
  await sWeb.release();
  return { node: la, web: lb, embedding: a.embedding.data as Float32Array, maxAbsDiff };
}
