/**
 * Reads a TFLite flatbuffer into plain objects (the object API that flatc
 * generated from ../shared/models/inat/tflite-schema.fbs into ./generated),
 * and writes one back. The converter and the LiteRT oracle both start here.
 */
import * as flatbuffers from 'flatbuffers';
import { BuiltinOperator, Model, ModelT, TensorType, type SubGraphT, type TensorT } from './generated/tflite-schema_generated.ts';

export { BuiltinOperator, TensorType };
export type { ModelT, SubGraphT, TensorT };

export class TfliteError extends Error {}

/** Parses TFLite bytes; refuses anything that is not a TFL3 flatbuffer with one subgraph. */
export function readTflite(bytes: Uint8Array): ModelT {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !Model.bufferHasIdentifier(bb)) throw new TfliteError('not a TFLite model: the file does not carry the "TFL3" flatbuffer identifier');
  const model = Model.getRootAsModel(bb).unpack();
  if (model.version !== 3) throw new TfliteError(`TFLite schema version ${model.version} is not supported (only 3)`);
  if (model.subgraphs.length !== 1) throw new TfliteError(`the model has ${model.subgraphs.length} subgraphs; only single-subgraph models are supported`);
  return model;
}

/**
 * The builtin operator of an operator code. Schema v3 keeps small codes in
 * the deprecated int8 field and large ones in builtin_code; the larger of the
 * two is the real one (what TFLite's GetBuiltinCode does).
 */
export function builtinCode(model: ModelT, opcodeIndex: number): BuiltinOperator {
  const code = model.operatorCodes[opcodeIndex];
  if (!code) throw new TfliteError(`operator refers to opcode ${opcodeIndex}, which the model does not define`);
  return Math.max(code.deprecatedBuiltinCode, code.builtinCode);
}

/** The readable name of a builtin operator code, e.g. "MAX_POOL_2D" (or "builtin code 250" when the schema does not know it). */
export function operatorName(code: number): string {
  return BuiltinOperator[code] ?? `builtin code ${code}`;
}

/** A tensor's per-tensor quantization; refuses per-channel or missing parameters. */
export function quantOf(tensor: TensorT, what: string): { scale: number; zeroPoint: number } {
  const q = tensor.quantization;
  if (!q || q.scale.length === 0) throw new TfliteError(`${what} (tensor "${tensorName(tensor)}") has no quantization parameters`);
  if (q.scale.length !== 1 || q.zeroPoint.length !== 1)
    throw new TfliteError(`${what} (tensor "${tensorName(tensor)}") is quantized per channel (${q.scale.length} scales); only per-tensor quantization is supported`);
  return { scale: q.scale[0], zeroPoint: Number(q.zeroPoint[0]) };
}

export function tensorName(tensor: TensorT): string {
  return typeof tensor.name === 'string' ? tensor.name : tensor.name ? new TextDecoder().decode(tensor.name) : '';
}

/** The constant bytes behind a tensor (weights, biases, shapes); empty for activations. */
export function bufferBytes(model: ModelT, tensor: TensorT): Uint8Array {
  const data = model.buffers[tensor.buffer]?.data ?? [];
  return Uint8Array.from(data);
}

/**
 * The same model with `tensors` added to its subgraph outputs. LiteRT.js
 * returns only graph outputs, so the oracle reads the logits (the SOFTMAX
 * input) and the embedding this way; adding outputs changes no kernel.
 *
 * The bytes are edited, not re-serialized: the generated object API writes
 * empty vectors for absent fields (shape_signature and the like), which
 * TFLite then refuses. A new outputs vector is appended at the end and the
 * subgraph's outputs field (a forward offset) is pointed at it.
 */
export function exposeTensors(bytes: Uint8Array, tensors: readonly number[]): Uint8Array {
  const model = readTflite(bytes);
  const outputs = [...model.subgraphs[0].outputs];
  for (const t of tensors) {
    if (!model.subgraphs[0].tensors[t]) throw new TfliteError(`cannot expose tensor ${t}: the model has ${model.subgraphs[0].tensors.length} tensors`);
    if (!outputs.includes(t)) outputs.push(t);
  }
  if (model.signatureDefs.length) throw new TfliteError('the model has signature definitions; exposing tensors would need them edited too');
  const bb = new flatbuffers.ByteBuffer(bytes);
  const sub = Model.getRootAsModel(bb).subgraphs(0)!;
  const OUTPUTS_FIELD = 8; // vtable slot of SubGraph.outputs (field 2)
  const rel = bb.__offset(sub.bb_pos, OUTPUTS_FIELD);
  if (!rel) throw new TfliteError('the subgraph has no outputs field to edit');
  const fieldPos = sub.bb_pos + rel;
  const start = Math.ceil(bytes.length / 4) * 4;
  const out = new Uint8Array(start + 4 + outputs.length * 4);
  out.set(bytes);
  const view = new DataView(out.buffer);
  view.setUint32(start, outputs.length, true);
  outputs.forEach((t, i) => view.setInt32(start + 4 + i * 4, t, true));
  view.setUint32(fieldPos, start - fieldPos, true);
  return out;
}
