import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { applyPrior, applyPriorToTop, markFor, occurrenceKey, parseOccurrenceTable, parseRangeTable, priorAt, rangeWeight, type OccurrenceTable, type RangeTable } from './location-prior.ts';
import { realmOf } from './realms.ts';

const ranges: RangeTable = {
  version: 't',
  source: 'test',
  taxa: {
    zebra: { realms: ['Afrotropic'], source: 's' },
    bison: { realms: ['Nearctic', 'Palearctic'], source: 's' },
    ant: { realms: ['Afrotropic'], cosmopolitan: true, source: 's' },
  },
};
const taxa = ['zebra', 'bison', 'ant'];
const NAIROBI = { lat: -1.2, lon: 36.8 };
const PARIS = { lat: 48.8, lon: 2.4 };

describe('realmOf', () => {
  it('puts well-known places in their realm', () => {
    expect(realmOf(NAIROBI.lat, NAIROBI.lon)).toBe('Afrotropic');
    expect(realmOf(PARIS.lat, PARIS.lon)).toBe('Palearctic');
    expect(realmOf(40.8, -74)).toBe('Nearctic'); // New York
    expect(realmOf(-23.6, -46.6)).toBe('Neotropic'); // São Paulo
    expect(realmOf(-33.8, 151.2)).toBe('Australasia'); // Sydney
    expect(realmOf(19, 72.8)).toBe('Indomalaya'); // Mumbai
    expect(realmOf(21.3, -157.8)).toBe('Oceania'); // Honolulu
    expect(realmOf(-77.8, 166.6)).toBe('Antarctic'); // McMurdo
    expect(realmOf(35.6, 139.6)).toBe('Palearctic'); // Tokyo
  });
  it('has no realm for the open ocean and refuses non-numbers', () => {
    expect(realmOf(-45, -130)).toBeNull();
    expect(() => realmOf(NaN, 0)).toThrow(/not a location/);
  });
});

describe('range weights', () => {
  it('is 1 in range, the floor outside, 1 for cosmopolitan, unknown taxa and no realm', () => {
    expect(rangeWeight(ranges.taxa.zebra, 'Afrotropic')).toBe(1);
    expect(rangeWeight(ranges.taxa.zebra, 'Palearctic', 0.2)).toBe(0.2);
    expect(rangeWeight(ranges.taxa.ant, 'Palearctic', 0.2)).toBe(1);
    expect(rangeWeight(undefined, 'Palearctic', 0.2)).toBe(1);
    expect(rangeWeight(ranges.taxa.zebra, null, 0.2)).toBe(1);
  });
  it('refuses a floor of 0 (an out-of-range animal could never win)', () => {
    expect(() => priorAt(taxa, ranges, PARIS, 6, null, { floor: 0 })).toThrow(/floor/);
  });
});

describe('applyPrior', () => {
  const labels = ['zebra', 'bison', 'other'];
  it('multiplies and renormalizes, leaving "other" at weight 1', () => {
    const prior = priorAt(taxa, ranges, PARIS, 6, null, { floor: 0.1 });
    const p = applyPrior([0.4, 0.4, 0.2], labels, prior);
    const z = 0.04 + 0.4 + 0.2;
    expect(p[0]).toBeCloseTo(0.04 / z, 12);
    expect(p[1]).toBeCloseTo(0.4 / z, 12);
    expect(p[2]).toBeCloseTo(0.2 / z, 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
  it('lets a strong photo of an out-of-range animal still win (the zoo case)', () => {
    const prior = priorAt(taxa, ranges, PARIS, 6, null, { floor: 0.1 });
    const p = applyPrior([0.95, 0.04, 0.01], labels, prior);
    expect(p[0]).toBeGreaterThan(p[1]);
  });
  it('flips a close call toward the animal that lives there', () => {
    const prior = priorAt(taxa, ranges, NAIROBI, 6, null);
    const p = applyPrior([0.3, 0.6, 0.1], labels, prior);
    expect(p[0]).toBeGreaterThan(p[1]);
  });
  it('changes nothing without a location', () => {
    const prior = priorAt(taxa, ranges, null, null, null);
    expect(Array.from(applyPrior([0.3, 0.6, 0.1], labels, prior))).toEqual([0.3, 0.6, 0.1].map((x) => expect.closeTo(x, 12)));
  });
  it('says what is wrong with mismatched input', () => {
    expect(() => applyPrior([1], labels, priorAt(taxa, ranges, null, null))).toThrow(/1 probabilities for 3 labels/);
  });
});

describe('occurrence table', () => {
  const cell = { lat: 48.8, lon: 2.4 };
  const table = (counts: Record<string, number>): OccurrenceTable => ({ cellDeg: 0.2, minInstalls: 5, cells: { [occurrenceKey(cell.lat, cell.lon, 7)]: counts } });
  it('raises a taxon seen often in the cell that month and lowers one never seen there', () => {
    const prior = priorAt(taxa, ranges, cell, 7, table({ bison: 200 }), { smoothing: 20 });
    expect(prior.weights.get('bison')!).toBeGreaterThan(1);
    expect(prior.weights.get('ant')!).toBeLessThan(1);
    expect(prior.weights.get('ant')!).toBeGreaterThanOrEqual(0.1);
  });
  it('is ignored for another month or another cell', () => {
    const base = priorAt(taxa, ranges, cell, 1, null);
    expect(priorAt(taxa, ranges, cell, 1, table({ bison: 200 })).weights).toEqual(base.weights);
    const nextCell = { lat: 48.6, lon: 2.4 };
    expect(priorAt(taxa, ranges, nextCell, 7, table({ bison: 200 })).weights).toEqual(priorAt(taxa, ranges, nextCell, 7, null).weights);
  });
  it('moves little on few observations (smoothing)', () => {
    const prior = priorAt(taxa, ranges, cell, 7, table({ bison: 1 }), { smoothing: 20 });
    expect(prior.weights.get('ant')!).toBeGreaterThan(0.9);
  });
  it('checks a downloaded table and says where it is wrong', () => {
    const ok = table({ bison: 7 });
    expect(parseOccurrenceTable(JSON.parse(JSON.stringify(ok)))).toEqual(ok);
    expect(() => parseOccurrenceTable({ ...ok, cells: { [occurrenceKey(cell.lat, cell.lon, 7)]: { bison: 'many' } } })).toThrow(/occurrence table is invalid at \/cells\/48.8,2.4,7\/bison/);
    expect(() => parseOccurrenceTable({ cells: {} })).toThrow(/occurrence table is invalid/);
  });
});

describe('marks', () => {
  it('marks in-range taxa expected and out-of-range ones unusual, and nothing without a realm', () => {
    const paris = priorAt(taxa, ranges, PARIS, 6, null);
    expect(markFor('bison', paris, ranges)).toBe('expected');
    expect(markFor('zebra', paris, ranges)).toBe('unusual');
    expect(markFor('ant', paris, ranges)).toBe('expected');
    expect(markFor('unknown', paris, ranges)).toBeNull();
    expect(markFor('zebra', priorAt(taxa, ranges, { lat: -45, lon: -130 }, 6, null), ranges)).toBeNull();
  });
});

describe('applyPriorToTop', () => {
  it('reorders the shown suggestions and keeps the unshown mass at weight 1', () => {
    const prior = priorAt(taxa, ranges, NAIROBI, 6, null, { floor: 0.1 });
    const { top, otherProbability } = applyPriorToTop(
      [
        { taxonId: 'bison', probability: 0.5 },
        { taxonId: 'zebra', probability: 0.2 },
      ],
      0.1,
      prior,
    );
    const z = 0.05 + 0.2 + 0.1 + 0.2;
    expect(top.map((t) => t.taxonId)).toEqual(['zebra', 'bison']);
    expect(top[0].probability).toBeCloseTo(0.2 / z, 12);
    expect(otherProbability).toBeCloseTo(0.1 / z, 12);
  });
});

describe('the committed range table', () => {
  const table = parseRangeTable(JSON.parse(readFileSync(new URL('../models/ranges/ranges.json', import.meta.url), 'utf8')));
  const taxonomy = JSON.parse(readFileSync(new URL('../models/taxonomy.json', import.meta.url), 'utf8')) as { taxa: { id: string }[] };
  it('covers exactly the launch taxa, each with a source and at least one realm', () => {
    expect(Object.keys(table.taxa).sort()).toEqual(taxonomy.taxa.map((t) => t.id).sort());
    for (const [id, e] of Object.entries(table.taxa)) {
      expect(e.source, id).not.toBe('');
      expect(e.realms.length, id).toBeGreaterThan(0);
    }
  });
  it('rejects a table with an unknown realm, naming the place', () => {
    expect(() => parseRangeTable({ version: '1', source: 's', taxa: { x: { realms: ['Atlantis'], source: 's' } } })).toThrow(/\/taxa\/x\/realms\/0/);
  });
});
