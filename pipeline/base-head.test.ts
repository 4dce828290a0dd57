import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.ts';
import { batchLogits, batchLogSumExp, logSumExp } from './base-head.ts';

describe('batchLogSumExp', () => {
  it('is the log-sum-exp of batchLogits, also for logits far from 0', async () => {
    const rand = seededRandom(5);
    const K = 900, D = 64, n = 37;
    const head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => rand() - 0.5), bias: Float32Array.from({ length: K }, () => 60 + rand()) };
    const x = Float32Array.from({ length: n * D }, () => rand() * 4);
    const logits = await batchLogits(head, x, n);
    const lse = await batchLogSumExp(head, x, n);
    expect(lse.length).toBe(n);
    for (let i = 0; i < n; i++) expect(Math.abs(lse[i] - logSumExp(logits.subarray(i * K, (i + 1) * K)))).toBeLessThan(1e-3);
  });
});
