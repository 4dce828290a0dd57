import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectedRoute, expectedSpecies, packGateLabel, scoreRouter, scoreSpecies, type PackLabelMap } from './pack-eval.ts';
import { parsePackLabel } from './species-pack.ts';

const map = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', 'models', 'pack-label-map.json'), 'utf8')) as PackLabelMap;
const INAT = path.resolve(import.meta.dirname, '..', '..', 'shared', 'models', 'inat');

describe('pack label map', () => {
  it('names only species the pack knows, by scientific name', () => {
    const known: Record<string, Set<string>> = {
      'inat-birds': new Set(
        readFileSync(path.join(INAT, 'inat_bird_labels.txt'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('('))
          .map((l) => parsePackLabel(l).scientificName),
      ),
      'inat-insects': new Set(
        readFileSync(path.join(INAT, 'inat_insect_labels.txt'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('('))
          .map((l) => parsePackLabel(l).scientificName),
      ),
    };
    for (const c of map.classes) expect(known[c.pack]?.has(c.scientificName), `${c.scientificName} in ${c.pack}`).toBe(true);
  });

  it('maps ImageNet indices to the expected species and route', () => {
    expect(expectedSpecies(map, 'inat-birds', 12)).toBe('Haemorhous mexicanus');
    expect(expectedSpecies(map, 'inat-insects', 12)).toBeNull();
    expect(expectedSpecies(map, 'inat-birds', null)).toBeNull();
    expect(expectedRoute(map, 146)).toBe('Aves');
    expect(expectedRoute(map, 300)).toBe('Insecta');
    expect(expectedRoute(map, 147)).toBeNull();
    expect(expectedRoute(map, null)).toBeNull();
  });

  it("labels a retrain's gate photo with its species, the pack's background, or nothing when it cannot be judged", () => {
    const birds = { id: 'inat-birds', routeClass: 'Aves' };
    expect(packGateLabel(map, birds, 12)).toBe('Haemorhous mexicanus');
    // A bird class wider than one species (jay): the pack has no one right answer.
    expect(packGateLabel(map, birds, 17)).toBeNull();
    // Not a bird at all: a lynx, an insect.
    expect(packGateLabel(map, birds, 287)).toBe('background');
    expect(packGateLabel(map, birds, 300, 'none')).toBe('none');
    expect(packGateLabel(map, birds, null)).toBeNull();
    // For the insect pack a bird is background.
    expect(packGateLabel(map, { id: 'inat-insects', routeClass: 'Insecta' }, 12)).toBe('background');
  });
});

describe('scores', () => {
  it('species top-1 and top-5 with intervals', () => {
    const s = scoreSpecies([
      { expected: 'a', top5: ['a', 'b'] },
      { expected: 'a', top5: ['b', 'a'] },
      { expected: 'a', top5: ['b'] },
      { expected: 'a', top5: ['b', 'c', 'd', 'e', 'f', 'a'] },
    ]);
    expect(s).toMatchObject({ n: 4, top1: 0.25, top5: 0.5 });
    expect(s.top1_ci.lo).toBeLessThan(0.25);
    expect(s.top1_ci.hi).toBeGreaterThan(0.25);
  });

  it('router accuracy per class and false routes of other animals', () => {
    const r = scoreRouter([
      { expected: 'Aves', routed: 'Aves' },
      { expected: 'Aves', routed: null },
      { expected: 'Insecta', routed: 'Aves' },
      { expected: 'Insecta', routed: 'Insecta' },
      { expected: null, routed: null },
      { expected: null, routed: 'Insecta' },
    ]);
    expect(r).toMatchObject({ n_routable: 4, accuracy: 0.5, n_other: 2, false_route_rate: 0.5 });
    expect(r.by_class).toEqual({ Aves: { n: 2, right: 1, wrong_pack: 0, none: 1 }, Insecta: { n: 2, right: 1, wrong_pack: 1, none: 0 } });
  });
});
