import { describe, expect, it } from 'vitest';
import { fitTemperature, nll, predictAll, trainHead, zeroHead, type Examples } from './head-train.ts';
import { seededRandom } from './random.ts';
import { evaluate } from './classifier-metrics.ts';

/** Three Gaussian blobs in 4-D; class 2 lives on a fixed logit, like "other". */
function blobs(n: number, seed: number): Examples {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = [
    [3, 0, 0, 0],
    [0, 3, 0, 0],
    [0, 0, 3, 0],
  ];
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  const fixed = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = centres[c][j] + 0.7 * gauss();
    fixed[i] = 1.5 * x[i * 4 + 2]; // the fixed "other" logit grows along the third axis
  }
  return { n, dim: 4, x, y, fixed, fixedCount: 1 };
}

describe('trainHead', () => {
  it('learns separable classes next to a fixed logit, and lowers the loss', () => {
    const train = blobs(600, 1);
    const test = blobs(300, 2);
    const init = zeroHead(2, 4);
    const losses: number[] = [];
    const head = trainHead(train, { init, lambda: 0, epochs: 30, learningRate: 0.05, batchSize: 32, onEpoch: (_, l) => losses.push(l) });
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    const ev = evaluate(predictAll(head, test), test.y, 3);
    expect(ev.top1).toBeGreaterThan(0.95);
    expect(init.weights.every((w) => w === 0)).toBe(true); // init untouched
  });

  it('stays at the prior when lambda is large', () => {
    const train = blobs(300, 3);
    const prior = zeroHead(2, 4);
    prior.weights.set([1, 0, 0, 0, 0, 1, 0, 0]);
    const head = trainHead(train, { init: prior, lambda: 1e4, epochs: 5, learningRate: 0.01, batchSize: 32 });
    for (let p = 0; p < 8; p++) expect(Math.abs(head.weights[p] - prior.weights[p])).toBeLessThan(0.02);
  });

  it('rejects labels outside the classes', () => {
    const bad = blobs(3, 4);
    bad.y[0] = 7;
    expect(() => trainHead(bad, { init: zeroHead(2, 4), lambda: 0, epochs: 1, learningRate: 0.1, batchSize: 2 })).toThrow(/outside/);
  });
});

describe('fitTemperature', () => {
  it('finds the temperature that undoes a known overconfidence', () => {
    const data = blobs(600, 5);
    const head = trainHead(data, { init: zeroHead(2, 4), lambda: 0, epochs: 20, learningRate: 0.05, batchSize: 32 });
    const hot = { ...head, weights: head.weights.map((w) => w * 3), bias: head.bias.map((b) => b * 3) };
    const hotData = { ...data, fixed: data.fixed!.map((f) => f * 3) };
    // Scaling every logit by 3 must scale the best temperature by 3 too.
    const t0 = fitTemperature(head, data);
    const t = fitTemperature(hot, hotData);
    expect(t / t0).toBeGreaterThan(2.9);
    expect(t / t0).toBeLessThan(3.1);
    expect(nll(hot, hotData, t)).toBeLessThanOrEqual(nll(hot, hotData, 1) + 1e-9);
  });
});

// The gate has its own tests beside it (core/retrain-gate.test.ts).
describe('evaluate', () => {
  it('computes top-1, top-5, recall, macro-F1 and ECE by hand', () => {
    // 4 examples, 3 classes. Predictions: [0 (0.9), 1 (0.6), 0 (0.5) wrong, 2 (0.7)] with truths [0, 1, 1, 2].
    const probs = [
      [0.9, 0.05, 0.05],
      [0.3, 0.6, 0.1],
      [0.5, 0.4, 0.1],
      [0.1, 0.2, 0.7],
    ];
    const ev = evaluate(probs, [0, 1, 1, 2], 3, 10);
    expect(ev.top1).toBe(0.75);
    expect(ev.top5).toBe(1);
    expect(ev.perClassRecall).toEqual([1, 0.5, 1]);
    // F1: class0 p=1/2 r=1 -> 2/3; class1 p=1 r=1/2 -> 2/3; class2 p=1 r=1 -> 1; mean = 7/9
    expect(ev.macroF1).toBeCloseTo(7 / 9, 10);
    // Bins of width 0.1: 0.9 (acc 1), 0.6 (acc 1), 0.5 (acc 0), 0.7 (acc 1): |1-.9|+|1-.6|+|0-.5|+|1-.7| = 1.3, /4
    expect(ev.ece).toBeCloseTo(1.3 / 4, 10);
    expect(ev.confusions).toEqual([{ truth: 1, predicted: 0, count: 1 }]);
  });
});
