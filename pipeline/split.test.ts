import { describe, expect, it } from 'vitest';
import { groupedSplit } from './split.ts';
import { seededRandom } from '../core/random.ts';

describe('groupedSplit', () => {
  const rand = seededRandom(5);
  // 40 installs, each with 1..6 examples of 1..2 classes among 5.
  const items = Array.from({ length: 40 }, (_, g) =>
    Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => ({ group: `install-${g}`, label: `c${(g + (i % 2) * Math.floor(rand() * 2)) % 5}`, i })),
  ).flat();

  it('never puts one install on both sides', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { train, validation } = groupedSplit(items, 0.2, seed);
      const t = new Set(train.map((x) => x.group));
      expect(validation.filter((x) => t.has(x.group))).toEqual([]);
      expect(train.length + validation.length).toBe(items.length);
    }
  });

  it('is stratified: every class with several installs is on both sides, about the asked share in validation', () => {
    const { train, validation } = groupedSplit(items, 0.2, 1);
    for (const c of ['c0', 'c1', 'c2', 'c3', 'c4']) {
      expect(train.some((x) => x.label === c)).toBe(true);
      expect(validation.some((x) => x.label === c)).toBe(true);
    }
    const share = new Set(validation.map((x) => x.group)).size / 40;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.35);
  });

  it('keeps a class with a single install in training', () => {
    const { train, validation } = groupedSplit(
      [
        { group: 'a', label: 'solo' },
        { group: 'a', label: 'solo' },
        { group: 'b', label: 'x' },
        { group: 'c', label: 'x' },
      ],
      0.5,
      1,
    );
    expect(train.filter((x) => x.label === 'solo')).toHaveLength(2);
    expect(validation).toHaveLength(1);
    expect(['b', 'c']).toContain(validation[0].group);
  });
});
