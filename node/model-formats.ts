/**
 * The model formats issue #14 compares, each derived from the shipped
 * 1.0.0 graph (QOperator int8) with the same weights: what `npm run
 * bench:format` measures and what `npm run models:build` can ship.
 */
import { decodeModel, encodeModel } from './onnx-graph.ts';
import { toFloatActivations, type WeightStorage } from './float-graph.ts';

export type ModelFormat = 'int8-qoperator' | 'int8-weights' | 'int8-weights-folded' | 'fp16-weights' | 'fp32';

export const FORMATS: ReadonlyArray<{ format: ModelFormat; storage: WeightStorage | null; title: string }> = [
  { format: 'int8-qoperator', storage: null, title: 'int8 QOperator (1.0.0 as shipped)' },
  { format: 'int8-weights', storage: 'int8', title: 'weight-only int8 (DequantizeLinear → float Conv)' },
  { format: 'int8-weights-folded', storage: 'int8-cast', title: 'weight-only int8, folded at load (Cast·scale → float Conv)' },
  { format: 'fp16-weights', storage: 'fp16', title: 'fp16 weights (Cast → float Conv)' },
  { format: 'fp32', storage: 'fp32', title: 'plain float32' },
];

/**
 * The shipped graph's bytes rewritten to `format`, with the version's
 * metadata (wildsight.version, wildsight.format) set; the QOperator format
 * is the input itself.
 */
export function deriveFormat(shipped: Uint8Array, format: ModelFormat, version: string): Uint8Array {
  const entry = FORMATS.find((f) => f.format === format);
  if (!entry) throw new Error(`unknown model format ${format}; known: ${FORMATS.map((f) => f.format).join(', ')}`);
  if (!entry.storage) return shipped;
  const model = decodeModel(shipped);
  toFloatActivations(model, entry.storage);
  const props = (model.metadataProps ?? []).filter((p) => p.key !== 'wildsight.version' && p.key !== 'wildsight.format');
  model.metadataProps = [...props, { key: 'wildsight.version', value: version }, { key: 'wildsight.format', value: format }];
  model.docString = `${model.docString ?? ''} (${entry.title})`;
  return encodeModel(model);
}
