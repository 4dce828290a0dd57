import { describe, expect, it } from 'vitest';
import { pointIn, realmFor, locate, locationRows, answerAfterPrior } from './location-eval.ts';
import { seededRandom } from './random.ts';
import { realmOf } from './realms.ts';
import type { RangeTable } from './location-prior.ts';

const ranges: RangeTable = {
  version: 't',
  source: 'test',
  taxa: {
    zebra: { realms: ['Afrotropic'], source: 's' },
    bison: { realms: ['Nearctic', 'Palearctic'], source: 's' },
    ant: { realms: ['Afrotropic'], cosmopolitan: true, source: 's' },
  },
};
describe('location eval', () => {
  it('draws points on the grid inside the asked realm', () => {
    const rand = seededRandom(3);
    for (const realm of ['Afrotropic', 'Oceania', 'Indomalaya'] as const) {
      for (let i = 0; i < 50; i++) {
        const p = pointIn(realm, rand);
        expect(realmOf(p.lat, p.lon)).toBe(realm);
      }
    }
  });
  it('draws right realms from the range, wrong ones outside it, and none for a cosmopolitan taxon', () => {
    const rand = seededRandom(1);
    for (let i = 0; i < 30; i++) {
      expect(realmFor('zebra', 'right', ranges, rand)).toBe('Afrotropic');
      const wrong = realmFor('zebra', 'wrong', ranges, rand);
      expect(wrong).not.toBe('Afrotropic');
      expect(wrong).not.toBe('Antarctic');
    }
    expect(realmFor('ant', 'wrong', ranges, rand)).toBeNull();
    expect(realmFor('zebra', 'none', ranges, rand)).toBeNull();
  });
  it('abstains after the prior as interpret does', () => {
    expect(answerAfterPrior([0.5, 0.2, 0.3], ['zebra', 'bison', 'other'], 0)).toBe('zebra');
    expect(answerAfterPrior([0.3, 0.2, 0.5], ['zebra', 'bison', 'other'], 0)).toBe('other');
    expect(answerAfterPrior([0.4, 0.35, 0.25], ['zebra', 'bison', 'other'], 0.5)).toBe('other');
  });
  it('gains on close calls with the right location and loses with the wrong one', () => {
    const labels = ['zebra', 'bison', 'other'];
    const photos = [
      { label: 'zebra', probabilities: [0.45, 0.5, 0.05] },
      { label: 'bison', probabilities: [0.45, 0.5, 0.05] },
    ];
    const none = locate(photos, labels, 0, 'none', ranges, seededRandom(1));
    const right = locate(photos, labels, 0, 'right', ranges, seededRandom(1));
    const wrong = locate(photos, labels, 0, 'wrong', ranges, seededRandom(1));
    const [rRow] = locationRows('right', right, none);
    expect(rRow).toMatchObject({ n: 2, located: 2, accuracy: 1 });
    expect(rRow.vsNone).toMatchObject({ gained: 1, lost: 0 });
    expect(locationRows('wrong', wrong, none)[0].n).toBe(2);
  });
  it('costs a clear zebra photo its answer at a wrong location (the zoo case) and keeps it at the right one', () => {
    const labels = ['zebra', 'bison', 'other'];
    const photos = [{ label: 'zebra', probabilities: [0.6, 0.3, 0.1] }];
    for (let seed = 1; seed <= 20; seed++) {
      const none = locate(photos, labels, 0, 'none', ranges, seededRandom(seed));
      const [w] = locationRows('wrong', locate(photos, labels, 0, 'wrong', ranges, seededRandom(seed)), none);
      expect(w.vsNone).toMatchObject({ lost: 1, gained: 0 });
      const [r] = locationRows('right', locate(photos, labels, 0, 'right', ranges, seededRandom(seed)), none);
      expect(r.vsNone).toMatchObject({ lost: 0, gained: 0 });
      expect(r.accuracy).toBe(1);
    }
  });
});
