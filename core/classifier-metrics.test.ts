import { describe, expect, it } from 'vitest';
import { bootstrapEce, eceOf, evaluate, pairedEceChange, topOne } from './classifier-metrics.ts';
import { seededRandom } from './random.ts';

/** n photos over 3 classes; `sharp` > 1 makes the model overconfident. */
function synthetic(n: number, seed: number, sharp = 1) {
  const rand = seededRandom(seed);
  const probs: Float32Array[] = [],
    labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = Math.floor(rand() * 3);
    const z = [rand(), rand(), rand()];
    z[y] += 0.8 * rand();
    const e = z.map((v) => Math.exp(v * 4 * sharp));
    const s = e[0] + e[1] + e[2];
    probs.push(Float32Array.from(e, (v) => v / s));
    labels.push(y);
  }
  return { probs, labels };
}

describe('ECE with a bootstrap interval', () => {
  const { probs, labels } = synthetic(600, 3);
  const t = topOne(probs, labels);

  it('eceOf agrees with evaluate()', () => {
    expect(eceOf(t.confidence, t.hit)).toBeCloseTo(evaluate(probs, labels, 3).ece, 6);
  });
  it('brackets the estimate, and narrows with more photos', () => {
    const b = bootstrapEce(t.confidence, t.hit, 400, 1);
    expect(b.lo).toBeLessThanOrEqual(b.ece + 0.01);
    expect(b.hi).toBeGreaterThan(b.ece);
    const big = synthetic(6000, 4),
      tb = topOne(big.probs, big.labels);
    const bb = bootstrapEce(tb.confidence, tb.hit, 200, 1);
    expect(bb.hi - bb.lo).toBeLessThan(b.hi - b.lo);
  });
  it('paired change: 0 with an interval around 0 for the same model, clearly positive for an overconfident one', () => {
    const same = pairedEceChange(t, t, 300, 2);
    expect(same.change).toBe(0);
    expect(same.lo).toBe(0);
    expect(same.hi).toBe(0);
    const over = synthetic(600, 3, 3);
    const worse = pairedEceChange(t, topOne(over.probs, over.labels), 300, 2);
    expect(worse.change).toBeGreaterThan(0);
    expect(worse.lo).toBeGreaterThan(0);
  });
});
