import { describe, expect, it } from 'vitest';
import { trainHead, trainHeadWith, tsGradient, type Batch, type Head } from '../core/head-train.ts';
import { seededRandom } from '../core/random.ts';
import { ortGradient, ortIndexedGradient } from './ort-gradient.ts';

function randomCase(n: number, K: number, D: number, F: number, seed: number) {
  const rand = seededRandom(seed);
  const r = () => rand() * 2 - 1;
  const head: Head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => (r() * 2) / Math.sqrt(D)), bias: Float32Array.from({ length: K }, r) };
  const batch: Batch = {
    n,
    x: Float32Array.from({ length: n * D }, () => Math.max(0, r() * 3)),
    y: Int32Array.from({ length: n }, () => Math.floor(rand() * (K + F))),
    fixed: Float32Array.from({ length: n * F }, () => r() * 4),
    fixedCount: F,
    weight: Float32Array.from({ length: n }, () => 0.5 + rand() * 3),
  };
  return { head, batch };
}

const maxRel = (a: Float32Array, b: Float32Array) => {
  let scale = 1e-6,
    diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
};

describe('ortGradient', () => {
  it.each([
    [37, 12, 64, 1],
    [256, 110, 1280, 1],
    [100, 10, 1280, 101],
    [5, 3, 8, 0],
  ])("gives the TypeScript kernel's loss and gradient (n=%i, K=%i, D=%i, fixed=%i)", async (n, K, D, F) => {
    const { head, batch } = randomCase(n, K, D, F, n + K);
    const gW0 = new Float32Array(K * D),
      gB0 = new Float32Array(K);
    const loss0 = tsGradient(head, batch, gW0, gB0);
    const ort = await ortGradient(K, D, F, 1);
    const gW1 = new Float32Array(K * D).fill(123),
      gB1 = new Float32Array(K).fill(123); // overwritten, not added to
    const loss1 = await ort.kernel(head, batch, gW1, gB1);
    await ort.release();
    expect(Math.abs(loss1 - loss0) / loss0).toBeLessThan(1e-4);
    expect(maxRel(gW0, gW1)).toBeLessThan(1e-4);
    expect(maxRel(gB0, gB1)).toBeLessThan(1e-4);
  });

  it('trains the same head as the TypeScript kernel, short last batch included', async () => {
    const K = 4,
      D = 16,
      n = 203;
    const { head: init, batch } = randomCase(n, K, D, 1, 7);
    const data = { n, dim: D, x: batch.x, y: batch.y, fixed: batch.fixed, fixedCount: 1 };
    const opts = { init, lambda: 0.1, epochs: 3, learningRate: 0.01, batchSize: 32, seed: 3, sampleWeight: batch.weight };
    const a = trainHead(data, opts);
    const ort = await ortGradient(K, D, 1, 1);
    const b = await trainHeadWith(ort.kernel, data, opts);
    await ort.release();
    expect(maxRel(a.weights, b.weights)).toBeLessThan(1e-3);
    expect(maxRel(a.bias, b.bias)).toBeLessThan(1e-3);
    expect(maxRel(a.weights, init.weights)).toBeGreaterThan(1e-3); // it did train
  });

  it('indexed (rows gathered inside onnxruntime) trains the same head as the copying kernel and the TypeScript one', async () => {
    const K = 5,
      D = 24,
      n = 203;
    const { head: init, batch } = randomCase(n, K, D, 1, 11);
    const data = { n, dim: D, x: batch.x, y: batch.y, fixed: batch.fixed, fixedCount: 1 };
    const opts = { init, lambda: 0.1, epochs: 3, learningRate: 0.01, batchSize: 32, seed: 5, sampleWeight: batch.weight };
    const a = trainHead(data, opts);
    const copying = await ortGradient(K, D, 1, 1);
    const b = await trainHeadWith(copying.kernel, data, opts);
    await copying.release();
    const indexed = await ortIndexedGradient(K, data, batch.weight, 1);
    const c = await trainHeadWith(indexed.kernel, data, opts);
    await indexed.release();
    // Same rows in the same order through the same graph: bit for bit the copying kernel's head.
    expect(Array.from(c.weights)).toEqual(Array.from(b.weights));
    expect(Array.from(c.bias)).toEqual(Array.from(b.bias));
    expect(maxRel(a.weights, c.weights)).toBeLessThan(1e-3);
    expect(maxRel(a.weights, init.weights)).toBeGreaterThan(1e-3);
  });

  it('refuses a head of another shape', async () => {
    const { head, batch } = randomCase(4, 3, 8, 1, 1);
    const ort = await ortGradient(2, 8, 1, 1);
    await expect(ort.kernel(head, batch, new Float32Array(24), new Float32Array(3))).rejects.toThrow(/built for 2 x 8/);
    await ort.release();
  });
});
