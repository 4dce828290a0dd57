import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE } from '../core/retrain-gate.ts';
import { splitNewTaxaByInstall } from './new-taxa-holdout.ts';

const r = DEFAULT_GATE.newTaxon;
const c = (eventId: string, installId: string, label: string) => ({ eventId, installId, label });

describe('splitNewTaxaByInstall', () => {
  // proposed-a: 10 installs, 2 corrections each; proposed-b: 3 installs, 4 corrections each; launch-x from 6 other installs.
  const rows = [
    ...Array.from({ length: 10 }, (_, g) => [c(`a${g}-1`, `ia${g}`, 'proposed-a'), c(`a${g}-0`, `ia${g}`, 'proposed-a')]).flat(),
    ...Array.from({ length: 3 }, (_, g) => Array.from({ length: 4 }, (_, i) => c(`b${g}-${i}`, `ib${g}`, 'proposed-b'))).flat(),
    ...Array.from({ length: 6 }, (_, g) => c(`x${g}`, `ix${g}`, 'launch-x')),
  ];

  it('holds out whole installs: no held-out install trains anything', () => {
    for (const seed of [1, 2, 3]) {
      const s = splitNewTaxaByInstall(rows, ['proposed-a', 'proposed-b'], r, seed);
      expect(s.heldOut.get('proposed-a')).toHaveLength(5);
      const held = new Set(s.heldOut.get('proposed-a')!.map((x) => x.installId));
      expect(s.train.filter((x) => held.has(x.installId))).toEqual([]);
      expect(s.train.filter((x) => x.label === 'proposed-a')).toHaveLength(10);
    }
  });
  it('scores one correction per held-out install, the first by event id', () => {
    const s = splitNewTaxaByInstall(rows, ['proposed-a'], r, 1);
    for (const x of s.heldOut.get('proposed-a')!) expect(x.eventId).toMatch(/-0$/);
  });
  it('does not train or judge a taxon from too few installs, and keeps launch corrections', () => {
    const s = splitNewTaxaByInstall(rows, ['proposed-a', 'proposed-b'], r, 1);
    expect(s.unjudged).toEqual(['proposed-b']);
    expect(s.counts.get('proposed-b')).toEqual({ installs: 3, corrections: 12 });
    expect(s.heldOut.has('proposed-b')).toBe(false);
    expect(s.train.filter((x) => x.label === 'proposed-b')).toEqual([]);
    expect(s.train.filter((x) => x.label === 'launch-x')).toHaveLength(6);
  });
  it('keeps the held-out installs as installs arrive, so evidence adds up from run to run', () => {
    const held = (n: number) =>
      new Set(
        splitNewTaxaByInstall(
          Array.from({ length: n }, (_, g) => c(`e${g}`, `install-${g}`, 'proposed-e')),
          ['proposed-e'],
          r,
          1,
        )
          .heldOut.get('proposed-e')!
          .map((x) => x.installId),
      );
    // One more install can take at most one held-out place.
    for (let n = 10; n < 18; n++) {
      const before = held(n);
      const after = held(n + 1);
      expect([...before].filter((id) => !after.has(id)).length, `from ${n} to ${n + 1} installs`).toBeLessThanOrEqual(1);
    }
  });
  it('depends on the seed, and is the same for the same seed', () => {
    const ids = (seed: number) =>
      splitNewTaxaByInstall(rows, ['proposed-a'], r, seed)
        .heldOut.get('proposed-a')!
        .map((x) => x.installId)
        .sort()
        .join();
    expect(ids(1)).toBe(ids(1));
    expect(new Set([1, 2, 3, 4, 5].map(ids)).size).toBeGreaterThan(1);
  });
  it('holds out the same installs for taxa that share them, so both keep installs to train', () => {
    // proposed-c and proposed-d come from the same 8 installs: 5 held out for both leaves 3 to train each.
    const shared = Array.from({ length: 8 }, (_, g) => [c(`c${g}`, `i${g}`, 'proposed-c'), c(`d${g}`, `i${g}`, 'proposed-d')]).flat();
    const s = splitNewTaxaByInstall(shared, ['proposed-c', 'proposed-d'], r, 1);
    expect(s.unjudged).toEqual([]);
    expect(s.heldOutInstalls.size).toBe(5);
    expect(s.train.filter((x) => x.label === 'proposed-d')).toHaveLength(3);
  });
  it('does not judge a taxon whose training installs were held out for another taxon', () => {
    // proposed-e's 8 installs are the same as proposed-f's first 8 of 20; f holds out 6, e can only keep 2 of its own.
    const rows2 = [...Array.from({ length: 20 }, (_, g) => c(`f${g}`, `i${g}`, 'proposed-f')), ...Array.from({ length: 8 }, (_, g) => c(`e${g}`, `i${g}`, 'proposed-e'))];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = splitNewTaxaByInstall(rows2, ['proposed-e', 'proposed-f'], r, seed);
      const eTrain = new Set(s.train.filter((x) => x.label === 'proposed-e').map((x) => x.installId)).size;
      if (s.unjudged.includes('proposed-e')) expect(eTrain).toBe(0);
      else expect(eTrain).toBeGreaterThanOrEqual(3);
    }
  });
});
