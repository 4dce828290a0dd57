/**
 * The exported graph computes exactly the float-head math: for random heads
 * and temperatures, its logits equal (embedding . W^T + b, other) / T on
 * real inputs, in onnxruntime-node and onnxruntime-web (WASM).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { REGISTRY_DIR, DATA_DIR_SHARED } from '../node/paths.ts';
import { loadVersion, readManifest } from '../node/registry.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { type Head } from '../core/head-train.ts';
import { seededRandom } from '../core/random.ts';
import { crossRuntimeCheck, expectedLogits, exportWithHead, splicedHead } from './export.ts';
import { BaseHead } from './base-head.ts';
import { loadTaxonomy } from '../node/registry.ts';

const haveModel = existsSync(path.join(REGISTRY_DIR, 'manifest.json')) && existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'));

describe.runIf(haveModel)('ONNX export of a retrained head', () => {
  it('reproduces the float head on real photos in onnxruntime-node and onnxruntime-web', async () => {
    const { model, bytes } = loadVersion('1.0.0');
    const rand = seededRandom(3);
    const K = 104,
      D = model.outputs.embeddingSize,
      T = 1.7;
    const head: Head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => (rand() - 0.5) * 0.1), bias: Float32Array.from({ length: K }, () => rand() - 0.5) };
    const out = exportWithHead(bytes, head, { temperature: T, version: '9.9.9', labelsSha256: '0'.repeat(64) });
    // The head can be read back from the graph.
    const back = splicedHead(out)!;
    expect(back.classes).toBe(K);
    expect(Array.from(back.weights.subarray(0, 50))).toEqual(Array.from(head.weights.subarray(0, 50)));
    expect(Array.from(back.bias)).toEqual(Array.from(head.bias));

    const c = await NodeClassifier.load({ version: '1.0.0' });
    const files = ['fixtures/chelsea_cat.png', 'imagenet-samples-animals/n01443537_goldfish.JPEG'].map((f) => path.join(DATA_DIR_SHARED, f)).filter(existsSync);
    expect(files.length).toBeGreaterThan(0);
    const size = model.input.size;
    const input = new Float32Array(files.length * 3 * size * size);
    for (const [i, f] of files.entries()) input.set(await c.tensorFor(new Uint8Array(readFileSync(f))), i * 3 * size * size);
    const v1 = await c.run(input, files.length);
    await c.release();

    const check = await crossRuntimeCheck(out, input, files.length, size);
    expect(check.maxAbsDiff).toBeLessThan(1e-3);
    for (let i = 0; i < files.length; i++) {
      // Same backbone: the embedding is unchanged, and "other" is v1's, divided by T.
      expect(Math.max(...Array.from(check.embedding.subarray(i * D, (i + 1) * D), (v, j) => Math.abs(v - v1.embeddings[i][j])))).toBe(0);
      const other = v1.logits[i][v1.logits[i].length - 1];
      const want = expectedLogits(head, v1.embeddings[i], other, T);
      const got = check.node.subarray(i * (K + 1), (i + 1) * (K + 1));
      for (let k = 0; k <= K; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-3);
    }
    // A wrong head (one weight changed) is caught by the same comparison.
    const wrong = { ...head, weights: head.weights.map((w, j) => (j === 5 ? w + 1 : w)) };
    const s = await ort.InferenceSession.create(exportWithHead(bytes, wrong, { temperature: T, version: '9.9.9', labelsSha256: '0'.repeat(64) }));
    const r = await s.run({ input: new ort.Tensor('float32', input.subarray(0, 3 * size * size), [1, 3, size, size]) });
    const want0 = expectedLogits(head, v1.embeddings[0], v1.logits[0][v1.logits[0].length - 1], T);
    expect(Math.abs((r.logits.data as Float32Array)[0] - want0[0])).toBeGreaterThan(1e-3);
  }, 60_000);

  it("the dequantized float head reproduces the model's own logits closely", async () => {
    const { model, bytes } = loadVersion('1.0.0');
    const launch = loadTaxonomy()
      .taxa.filter((t) => t.imagenetIndex != null)
      .map((t) => t.imagenetIndex!);
    const base = new BaseHead(bytes, launch);
    const c = await NodeClassifier.load({ version: '1.0.0' });
    const r = await c.classifyFile(path.join(DATA_DIR_SHARED, 'fixtures', 'chelsea_cat.png'));
    await c.release();
    let max = 0;
    for (let k = 0; k < 100; k++) {
      let s = base.launch.bias[k];
      for (let j = 0; j < model.outputs.embeddingSize; j++) s += base.launch.weights[k * model.outputs.embeddingSize + j] * r.embedding[j];
      max = Math.max(max, Math.abs(s - r.logits[k]));
    }
    // Within a few output quantization steps.
    expect(max).toBeLessThan(0.5);
    expect(Math.abs(base.otherLogit(r.embedding) - r.logits[100])).toBeLessThan(0.3);
    expect(readManifest()!.active).toBe('1.0.0');
  }, 60_000);
});
