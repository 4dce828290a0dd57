/**
 * The built species models against the zoo models they come from, in
 * onnxruntime-node: the 100 launch logits are the zoo's own columns, "other"
 * is the log-sum-exp of the rest, and ShuffleNet's freed batch dimension
 * gives the same answers as one photo at a time.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { IMAGENET_DIR } from './paths.ts';
import { loadVersion, loadTaxonomy } from './registry.ts';
import { seededRandom } from '../core/random.ts';

const have = existsSync(path.join(IMAGENET_DIR, 'mobilenetv2-12-int8.onnx'));

function input(n: number, seed: number): ort.Tensor {
  const rand = seededRandom(seed);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * 3 * 224 * 224 }, () => rand() * 4 - 2),
    [n, 3, 224, 224],
  );
}

describe.skipIf(!have)('built species models', () => {
  for (const [version, zoo, embeddingSize] of [
    ['1.0.0', 'mobilenetv2-12-int8.onnx', 1280],
    ['0.9.0', 'shufflenet-v2-12-qdq.onnx', 1024],
  ] as const) {
    it(`${version}: launch logits are the zoo's columns and "other" is the log-sum-exp of the rest`, async () => {
      const { model, bytes } = loadVersion(version);
      const built = await ort.InferenceSession.create(bytes);
      const base = await ort.InferenceSession.create(readFileSync(path.join(IMAGENET_DIR, zoo)));
      const x = input(1, 7);
      const out = await built.run({ input: x });
      const zooLogits = (await base.run({ input: x })).output.data as Float32Array;
      const logits = out.logits.data as Float32Array;
      expect(out.embedding.dims).toEqual([1, embeddingSize]);
      const indices = loadTaxonomy().taxa.map((t) => t.imagenetIndex!);
      expect(model.labels.slice(0, 100)).toEqual(loadTaxonomy().taxa.map((t) => t.id));
      indices.forEach((imagenet, i) => expect(logits[i]).toBeCloseTo(zooLogits[imagenet], 4));
      const rest = Array.from(zooLogits).filter((_, i) => !indices.includes(i));
      const max = Math.max(...rest);
      const lse = max + Math.log(rest.reduce((s, v) => s + Math.exp(v - max), 0));
      expect(logits[100]).toBeCloseTo(lse, 3);
    });
  }

  it('0.9.0 takes a batch of 2 and answers as two single runs', async () => {
    const { bytes } = loadVersion('0.9.0');
    const s = await ort.InferenceSession.create(bytes);
    const a = input(1, 1),
      b = input(1, 2);
    const both = new ort.Tensor('float32', Float32Array.from([...(a.data as Float32Array), ...(b.data as Float32Array)]), [2, 3, 224, 224]);
    const pair = (await s.run({ input: both })).logits.data as Float32Array;
    const one = (await s.run({ input: a })).logits.data as Float32Array;
    const two = (await s.run({ input: b })).logits.data as Float32Array;
    for (let i = 0; i < 101; i++) {
      expect(pair[i]).toBeCloseTo(one[i], 3);
      expect(pair[101 + i]).toBeCloseTo(two[i], 3);
    }
  });
});
