import { describe, expect, it } from 'vitest';
import { averageLogits, fuseLogits, logSoftmax, mirrorTensor } from './fusion.ts';
import { softmax } from './postprocess.ts';
import { classBootstrap, groupOnce, photosByClass, scoreObservations } from './observation-eval.ts';
import { seededRandom } from './random.ts';

const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b] ? i : b), 0);

describe('fuseLogits', () => {
  it('one photo keeps its distribution', () => {
    const l = [2, 0.5, -1, 3];
    const fused = softmax(fuseLogits([l]));
    softmax(l).forEach((p, i) => expect(fused[i]).toBeCloseTo(p, 6));
  });

  it("log-sum is the normalized product of the photos' probabilities", () => {
    const a = [1, 2, 0],
      b = [0.5, -1, 2];
    const pa = softmax(a),
      pb = softmax(b);
    const prod = Array.from(pa, (p, i) => p * pb[i]);
    const z = prod.reduce((s, x) => s + x, 0);
    const fused = softmax(fuseLogits([a, b], 'log-sum'));
    prod.forEach((p, i) => expect(fused[i]).toBeCloseTo(p / z, 6));
  });

  it('mean-prob is the average of the probabilities', () => {
    const a = [1, 2, 0],
      b = [0.5, -1, 2];
    const pa = softmax(a),
      pb = softmax(b);
    const fused = softmax(fuseLogits([a, b], 'mean-prob'));
    pa.forEach((p, i) => expect(fused[i]).toBeCloseTo((p + pb[i]) / 2, 6));
  });

  it('two photos that lean the same weak way make a more confident answer; a confident wrong one is outvoted by two right ones', () => {
    const weak = [1, 0.6, 0];
    expect(softmax(fuseLogits([weak, weak]))[0]).toBeGreaterThan(softmax(weak)[0]);
    const right = [2, 0, 0],
      wrong = [0, 2.5, 0];
    expect(argmax(fuseLogits([right, right, wrong]))).toBe(0);
    expect(argmax(fuseLogits([right, wrong]))).toBe(1);
  });

  it("does not depend on a constant added to one photo's logits (only probabilities count)", () => {
    const a = [1, 2, 0],
      b = [0.5, -1, 2];
    const f1 = softmax(fuseLogits([a, b])),
      f2 = softmax(fuseLogits([a, b.map((x) => x + 40)]));
    f1.forEach((p, i) => expect(f2[i]).toBeCloseTo(p, 6));
  });

  it('refuses an empty observation, mismatched lengths and non-finite logits with a clear error', () => {
    expect(() => fuseLogits([])).toThrow(/at least one photo/);
    expect(() =>
      fuseLogits([
        [1, 2],
        [1, 2, 3],
      ]),
    ).toThrow(/same number of logits/);
    expect(() => logSoftmax([NaN, NaN])).toThrow(/finite/);
  });
});

describe('mirror view', () => {
  it('mirrors each row of each channel', () => {
    // 2 channels, 2 rows, 3 columns, after a 1-value offset.
    const t = Float32Array.from([9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(mirrorTensor(t, 2, 2, 3, 1))).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
  });
  it('averages two views', () => {
    expect(Array.from(averageLogits([1, 3], [3, -1]))).toEqual([2, 1]);
  });
});

describe('observation groupings', () => {
  const labels = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'c', 'other'];
  it('keeps classes with enough photos and cuts disjoint groups of one class', () => {
    const by = photosByClass(labels, 2, (l) => l === 'other');
    expect([...by.keys()]).toEqual(['a', 'b']);
    const groups = groupOnce(by, 2, seededRandom(3));
    expect(groups.map((g) => g.label)).toEqual(['a', 'a', 'b']);
    const used = groups.flatMap((g) => g.photos);
    expect(new Set(used).size).toBe(used.length);
    for (const g of groups) for (const i of g.photos) expect(labels[i]).toBe(g.label);
  });
  it('replays with a seed and differs between seeds', () => {
    const by = photosByClass(labels, 2);
    expect(groupOnce(by, 2, seededRandom(5))).toEqual(groupOnce(by, 2, seededRandom(5)));
    const draws = new Set(Array.from({ length: 20 }, (_, s) => JSON.stringify(groupOnce(by, 2, seededRandom(s)))));
    expect(draws.size).toBeGreaterThan(1);
    expect(() => groupOnce(by, 0, seededRandom(1))).toThrow(/whole number/);
  });

  it('scores observations: fusion turns a class whose photos are right 2 times in 3 into one right every time at size 3', () => {
    // Class x: two photos lean to x, one confidently to y.
    const photos = [
      { label: 'x', logits: [2, 0] },
      { label: 'x', logits: [2, 0] },
      { label: 'x', logits: [0, 2.5] },
    ];
    const by = photosByClass(
      photos.map((p) => p.label),
      3,
    );
    const correct = (f: Float32Array, label: string) => (argmax(f) === 0 ? 'x' : 'y') === label;
    const one = scoreObservations(photos, by, 1, { rounds: 10, seed: 1, rule: 'log-sum', correct });
    const three = scoreObservations(photos, by, 3, { rounds: 10, seed: 1, rule: 'log-sum', correct });
    expect(one.top1).toBeCloseTo(2 / 3, 6);
    expect(one.observations).toBe(30);
    expect(three.top1).toBe(1);
    expect(three.perRound).toBe(1);
    // All right: the class bootstrap collapses to [1, 1]; the Wilson interval over one grouping does not.
    expect([three.lo, three.hi]).toEqual([1, 1]);
    expect(three.wilson.lo).toBeLessThan(0.5);
  });

  it('the class bootstrap brackets the pooled rate and widens with fewer classes', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ hits: i % 4 === 0 ? 0 : 3, n: 3 }));
    const ci = classBootstrap(many, 1000, 2);
    expect(ci.lo).toBeLessThan(0.75);
    expect(ci.hi).toBeGreaterThan(0.75);
    const few = classBootstrap(many.slice(0, 8), 1000, 2);
    expect(few.hi - few.lo).toBeGreaterThan(ci.hi - ci.lo);
  });
});
