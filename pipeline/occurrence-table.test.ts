import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildOccurrenceTable, monthOf, OCCURRENCE_FILE, writeOccurrenceTable, type Observation } from './occurrence-table.ts';
import { occurrenceKey, parseOccurrenceTable, priorAt, type RangeTable } from '../core/location-prior.ts';
import { roundToCell } from '../core/telemetry.ts';
import { BACKENDS } from '../server/testing/backends.ts';
import { correction, identification } from '../server/testing/fixtures.ts';

const PARIS = { lat: 48.8, lon: 2.4 };
const obs = (installId: string, taxonId: string, hour = '2026-07-14T10:00:00.000Z', cell = PARIS): Observation => ({ installId, taxonId, cell, hour });

describe('buildOccurrenceTable', () => {
  it('counts distinct installs per taxon, cell and month', () => {
    const rows = ['a', 'b', 'c', 'd', 'e'].flatMap((i) => [obs(i, 'bee'), obs(i, 'bee')]);
    const t = buildOccurrenceTable(rows, 5);
    expect(t.cells[occurrenceKey(PARIS.lat, PARIS.lon, 7)]).toEqual({ bee: 5 });
    expect(t.observations).toBe(10);
  });
  it('keeps no cell with fewer installs than the minimum, and no taxon count backed by fewer', () => {
    const four = ['a', 'b', 'c', 'd'].map((i) => obs(i, 'bee'));
    expect(buildOccurrenceTable(four, 5).cells).toEqual({});
    // Five installs in the cell, but the one zebra sighting must not show.
    const t = buildOccurrenceTable([...four, obs('e', 'bee'), obs('e', 'zebra')], 5);
    expect(t.cells[occurrenceKey(PARIS.lat, PARIS.lon, 7)]).toEqual({ bee: 5 });
  });
  it('keeps months apart', () => {
    const t = buildOccurrenceTable(
      ['a', 'b', 'c', 'd', 'e'].map((i) => obs(i, 'bee', '2026-01-02T00:00:00.000Z')),
      5,
    );
    expect(Object.keys(t.cells)).toEqual([occurrenceKey(PARIS.lat, PARIS.lon, 1)]);
  });
  it('refuses an off-grid cell, a bad hour and a minimum that would show single observations', () => {
    expect(() => buildOccurrenceTable([obs('a', 'bee', undefined, { lat: 48.81, lon: 2.4 })])).toThrow(/not on the 0.2-degree grid/);
    expect(() => monthOf('yesterday')).toThrow(/not an hour/);
    expect(() => buildOccurrenceTable([], 1)).toThrow(/at least 2/);
  });
  it('feeds the prior: a taxon seen there that month weighs more', () => {
    const ranges: RangeTable = { version: 't', source: 't', taxa: { bee: { realms: ['Palearctic'], source: 's' }, bison: { realms: ['Palearctic'], source: 's' } } };
    const t = buildOccurrenceTable(
      Array.from({ length: 40 }, (_, i) => obs(`i${i}`, 'bee')),
      5,
    );
    const p = priorAt(['bee', 'bison'], ranges, PARIS, 7, t);
    expect(p.weights.get('bee')!).toBeGreaterThan(p.weights.get('bison')!);
  });
});

describe('writeOccurrenceTable on a real store', () => {
  // What retrain() calls after registering a version: the store's accepted, located corrections become <version>/occurrence.json.
  it('writes occurrence.json into the version folder from accepted corrections with a cell', async () => {
    const db = await BACKENDS[0].create();
    const store = await db.openStore();
    const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-occurrence-'));
    try {
      const hour = '2026-07-14T10:00:00.000Z';
      for (let i = 0; i < 5; i++) {
        const installId = randomUUID();
        const id = identification({ installId, hour });
        const located = correction({ installId, correctsEventId: id.eventId, taxonId: 'zebra', hour, location: roundToCell(48.85, 2.35) });
        const unlocated = correction({ installId, correctsEventId: id.eventId, taxonId: 'zebra', hour });
        await store.insertBatch([id, located, unlocated], undefined, { installId });
        for (const c of [located, unlocated]) expect(await store.setCorrectionStatus(c.eventId, 'accepted', 'reviewer')).toBe(true);
      }
      const out = await writeOccurrenceTable(store, dir);
      expect(out).toMatchObject({ file: path.join(dir, OCCURRENCE_FILE), observations: 5, cellsKept: 1, cellsDropped: 0 });
      const table = parseOccurrenceTable(JSON.parse(readFileSync(out.file, 'utf8')));
      expect(table.cells).toEqual({ [occurrenceKey(48.8, 2.4, 7)]: { zebra: 5 } });
    } finally {
      await store.close();
      await db.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
