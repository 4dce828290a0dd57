/**
 * The QDQ rewrite describes the same network as the zoo's QOperator graph:
 * with onnxruntime's default options (which fuse QDQ back into int8
 * kernels) it gives the zoo's logits exactly, and with float kernels
 * (disable_quant_qdq) it stays close to them.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { IMAGENET_DIR } from './paths.ts';
import { decodeModel, encodeModel, graphOf } from './onnx-graph.ts';
import { toQdq } from './qdq-graph.ts';
import { seededRandom } from '../core/random.ts';

const zooFile = path.join(IMAGENET_DIR, 'mobilenetv2-12-int8.onnx');
const have = existsSync(zooFile);

describe.skipIf(!have)('toQdq', () => {
  it('rewrites every QLinear op of MobileNetV2-int8 and keeps its answers', async () => {
    const zooBytes = readFileSync(zooFile);
    const model = decodeModel(zooBytes);
    const report = toQdq(model);
    expect(report.rewritten).toEqual({ QLinearConv: 52, QLinearAdd: 11, QLinearGlobalAveragePool: 1, QLinearMatMul: 1 });
    const ops = new Set(graphOf(model).node.map((n) => n.opType));
    expect([...ops].filter((op) => op!.startsWith('QLinear'))).toEqual([]);
    const qdq = encodeModel(model);

    const rand = seededRandom(3);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 224 * 224 }, () => rand() * 4 - 2),
      [1, 3, 224, 224],
    );
    const run = async (bytes: Uint8Array, extra?: Record<string, unknown>) => {
      const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, ...(extra ? { extra } : {}) });
      const out = (await s.run({ input: x })).output.data as Float32Array;
      await s.release();
      return out;
    };
    const zoo = await run(zooBytes);
    const fused = await run(qdq);
    expect(Array.from(fused)).toEqual(Array.from(zoo));
    const float = await run(qdq, { session: { disable_quant_qdq: '1' } });
    const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
    expect(argmax(float)).toBe(argmax(zoo));
    const diff = Math.max(...Array.from(float, (v, i) => Math.abs(v - zoo[i])));
    const range = Math.max(...zoo) - Math.min(...zoo);
    expect(diff).toBeLessThan(0.2 * range);
  });

  it('refuses a graph op it cannot carry into opset 13', () => {
    const model = decodeModel(readFileSync(zooFile));
    graphOf(model).node.push({ opType: 'Squeeze', input: ['output'], output: ['squeezed'], attribute: [] });
    expect(() => toQdq(model)).toThrow(/Squeeze changed in opset 13/);
  });
});
