import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as flatbuffers from 'flatbuffers';
import * as ort from 'onnxruntime-node';
import { Model } from './generated/tflite-schema_generated.ts';
import { BuiltinOperator, exposeTensors, readTflite, TfliteError } from './read.ts';
import { addParams, convertTflite } from './to-onnx.ts';
import { INAT_DIR } from './packs.ts';
import { decodeModel, graphOf } from '../onnx-graph.ts';

const BIRDS = readFileSync(path.join(INAT_DIR, 'mobilenet_v2_1.0_224_inat_bird_quant.tflite'));
const IMAGENET = readFileSync(path.join(INAT_DIR, 'mobilenet_v2_1.0_224_quant.tflite'));

/** A copy of `bytes` whose operator code for `from` says `to` instead (both code fields patched in place). */
function patchOpcode(bytes: Uint8Array, from: BuiltinOperator, to: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const bb = new flatbuffers.ByteBuffer(out);
  const model = Model.getRootAsModel(bb);
  let patched = false;
  for (let i = 0; i < model.operatorCodesLength(); i++) {
    const code = model.operatorCodes(i)!;
    if (Math.max(code.deprecatedBuiltinCode(), code.builtinCode()) !== (from as number)) continue;
    const dep = bb.__offset(code.bb_pos, 4); // deprecated_builtin_code: int8
    const cur = bb.__offset(code.bb_pos, 10); // builtin_code: int32
    if (dep) bb.writeInt8(code.bb_pos + dep, Math.min(to, 127));
    if (cur) bb.writeInt32(code.bb_pos + cur, to);
    patched = true;
  }
  if (!patched) throw new Error(`no operator code ${from} to patch`);
  return out;
}

describe('TFLite to ONNX', () => {
  it('maps every operator of the birds pack onto the quantized ONNX operators', () => {
    const { onnx, info } = convertTflite(BIRDS);
    expect(info.operators).toEqual({ CONV_2D: 35, DEPTHWISE_CONV_2D: 17, ADD: 10, AVERAGE_POOL_2D: 1, FULLY_CONNECTED: 1 });
    expect(info.outputs).toEqual({ logits: 'logits', embedding: 'embedding', embeddingSize: 1280, classes: 965 });
    expect(info.input.tfliteQuantization).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    expect(info.tfliteTensors.logitsName).toBe('Logits/MatMul;Logits/BiasAdd');
    const g = graphOf(decodeModel(onnx));
    const ops: Record<string, number> = {};
    for (const n of g.node) ops[`${n.domain ? `${n.domain}.` : ''}${n.opType}`] = (ops[`${n.domain ? `${n.domain}.` : ''}${n.opType}`] ?? 0) + 1;
    // 35 + 17 convolutions and the fully connected layer as a 1x1 convolution; the 10 ADDs in integer ops; no float kernels.
    expect(ops.QLinearConv).toBe(53);
    expect(ops['com.microsoft.QLinearGlobalAveragePool']).toBe(1);
    expect(ops.Cast).toBe(30); // per ADD: both inputs to int64, the result back to uint8
    expect(Object.keys(ops).sort()).toEqual(['Add', 'Cast', 'DequantizeLinear', 'Div', 'Max', 'Min', 'Mul', 'QLinearConv', 'QuantizeLinear', 'Reshape', 'com.microsoft.QLinearGlobalAveragePool']);
    // The first convolution (3x3, stride 2, SAME on 224) pads one pixel at the end only, as TFLite does.
    const first = g.node.find((n) => n.opType === 'QLinearConv')!;
    expect(first.attribute!.find((a) => a.name === 'pads')!.ints!.map(Number)).toEqual([0, 0, 1, 1]);
  });

  it('runs in onnxruntime-node with a batch: the same answer for a photo alone and beside another', async () => {
    const { onnx } = convertTflite(IMAGENET);
    const session = await ort.InferenceSession.create(onnx);
    try {
      const plane = 3 * 224 * 224;
      const x = new Float32Array(2 * plane);
      for (let i = 0; i < plane; i++) {
        x[i] = (i * 7) % 256;
        x[plane + i] = (i * 13 + 5) % 256;
      }
      const both = await session.run({ input: new ort.Tensor('float32', x, [2, 3, 224, 224]) });
      const one = await session.run({ input: new ort.Tensor('float32', x.slice(plane), [1, 3, 224, 224]) });
      expect(both.logits.dims).toEqual([2, 1001]);
      expect(both.embedding.dims).toEqual([2, 1280]);
      expect(Array.from(one.logits.data as Float32Array)).toEqual(Array.from((both.logits.data as Float32Array).slice(1001)));
    } finally {
      await session.release();
    }
  });

  it('refuses a model with an operator it does not handle, naming it', () => {
    const bad = patchOpcode(BIRDS, BuiltinOperator.AVERAGE_POOL_2D, BuiltinOperator.MAX_POOL_2D);
    expect(() => convertTflite(bad)).toThrow(TfliteError);
    expect(() => convertTflite(bad)).toThrow(/unsupported TFLite operator MAX_POOL_2D/);
    // Every unsupported operator is named, once each.
    const two = patchOpcode(bad, BuiltinOperator.FULLY_CONNECTED, BuiltinOperator.LOGISTIC);
    expect(() => convertTflite(two)).toThrow(/unsupported TFLite operators MAX_POOL_2D, LOGISTIC: the converter handles only CONV_2D, DEPTHWISE_CONV_2D/);
  });

  it('computes the uint8 add parameters as XNNPack does', () => {
    // Equal scales: ratio 1, exponent 0, so shift 20 and multipliers 2^20.
    expect(addParams({ scale: 0.5, zeroPoint: 10 }, { scale: 0.5, zeroPoint: 20 }, { scale: 0.5, zeroPoint: 0 })).toEqual({
      aMultiplier: 2 ** 20,
      bMultiplier: 2 ** 20,
      shift: 20,
      rounding: 2 ** 19,
      bias: -(10 + 20) * 2 ** 20,
    });
    // The larger ratio (3 = 1.5 * 2^1) sets the shift (19); the other is 0.75 * 2^19.
    const p = addParams({ scale: 0.3, zeroPoint: 0 }, { scale: 0.075, zeroPoint: 0 }, { scale: 0.1, zeroPoint: 0 });
    expect(p.shift).toBe(19);
    expect(p.aMultiplier).toBe(Math.round(Math.fround(0.3 / 0.1) * 2 ** 19));
    expect(p.bMultiplier).toBe(Math.round(Math.fround(0.075 / 0.1) * 2 ** 19));
    // A ratio outside what a 21-bit multiplier with a 12..30 shift holds is refused.
    expect(() => addParams({ scale: 1000, zeroPoint: 0 }, { scale: 1, zeroPoint: 0 }, { scale: 1, zeroPoint: 0 })).toThrow(/outside what the uint8 add supports/);
  });

  it('refuses bytes that are not a TFLite model', () => {
    expect(() => convertTflite(new TextEncoder().encode('this is not a flatbuffer at all'))).toThrow(/not a TFLite model/);
  });

  it('exposes intermediate tensors as outputs without touching anything else', () => {
    const { info } = convertTflite(BIRDS);
    const exposed = exposeTensors(BIRDS, [info.tfliteTensors.logits, info.tfliteTensors.embedding]);
    const before = readTflite(BIRDS),
      after = readTflite(exposed);
    expect(after.subgraphs[0].outputs).toEqual([...before.subgraphs[0].outputs, info.tfliteTensors.logits, info.tfliteTensors.embedding]);
    expect(after.subgraphs[0].operators.length).toBe(before.subgraphs[0].operators.length);
    // Only the subgraph's 4-byte outputs offset changed in the original bytes.
    let changed = 0;
    for (let i = 0; i < BIRDS.length; i++) if (exposed[i] !== BIRDS[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(4);
  });
});
