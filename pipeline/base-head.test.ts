import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.ts';
import { predictAll } from '../core/head-train.ts';
import { batchLogits, batchLogSumExp, batchPredict, logSumExp } from './base-head.ts';

describe('batchPredict', () => {
  it("gives predictAll's probabilities, fixed logits and temperature included", async () => {
    const rand = seededRandom(6);
    const K = 12,
      D = 32,
      n = 50;
    const head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => rand() - 0.5), bias: Float32Array.from({ length: K }, () => rand()) };
    const data = { n, dim: D, x: Float32Array.from({ length: n * D }, () => rand() * 2), y: new Int32Array(n), fixed: Float32Array.from({ length: n }, () => rand() * 3), fixedCount: 1 };
    const want = predictAll(head, data, 1.7),
      got = await batchPredict(head, data, 1.7);
    expect(got.length).toBe(n);
    for (let i = 0; i < n; i++) for (let k = 0; k <= K; k++) expect(Math.abs(got[i][k] - want[i][k])).toBeLessThan(1e-5);
  });
});

describe('batchLogSumExp', () => {
  it('is the log-sum-exp of batchLogits, also for logits far from 0', async () => {
    const rand = seededRandom(5);
    const K = 900,
      D = 64,
      n = 37;
    const head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => rand() - 0.5), bias: Float32Array.from({ length: K }, () => 60 + rand()) };
    const x = Float32Array.from({ length: n * D }, () => rand() * 4);
    const logits = await batchLogits(head, x, n);
    const lse = await batchLogSumExp(head, x, n);
    expect(lse.length).toBe(n);
    for (let i = 0; i < n; i++) expect(Math.abs(lse[i] - logSumExp(logits.subarray(i * K, (i + 1) * K)))).toBeLessThan(1e-3);
  });
});
