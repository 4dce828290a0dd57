/**
 * The cell-by-month occurrence table (issue #16) the pipeline ships beside
 * each model version as `occurrence.json`, read by the location prior
 * (core/location-prior.ts, OccurrenceTable).
 *
 * Built from accepted, trainable corrections that carry a cell (their users
 * opted in to share an approximate location): per 0.2-degree cell and month,
 * how many distinct installs saw each taxon. An install counts once per
 * taxon, cell and month, so one keen user weighs as one. A count is kept
 * only when at least `minInstalls` installs back it, and a cell-month only
 * when at least `minInstalls` installs observed there at all, so no single
 * observation (nor a handful) can be read back out of a shipped table.
 * Smoothing happens where the table is used: priorAt pulls each cell's
 * counts toward the range prior with DEFAULT_SMOOTHING pseudo-observations.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCATION_CELL_DEG, onGrid } from '../core/telemetry.ts';
import { occurrenceKey, type OccurrenceTable } from '../core/location-prior.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { acceptedCorrections } from './feedback-input.ts';

export const OCCURRENCE_FILE = 'occurrence.json';
export const DEFAULT_MIN_INSTALLS = 5;

export interface Observation {
  installId: string;
  taxonId: string;
  cell: { lat: number; lon: number };
  hour: string;
}

/** Month 1-12 of a stored hour (ISO text); throws on anything else so a bad row is named, not silently dropped. */
export function monthOf(hour: string): number {
  const m = /^\d{4}-(\d{2})-/.exec(hour);
  const month = m ? Number(m[1]) : NaN;
  if (!(month >= 1 && month <= 12)) throw new Error(`not an hour: "${hour}"`);
  return month;
}

export function buildOccurrenceTable(observations: Iterable<Observation>, minInstalls = DEFAULT_MIN_INSTALLS): OccurrenceTable & { observations: number; cellsKept: number; cellsDropped: number } {
  if (!(Number.isInteger(minInstalls) && minInstalls >= 2)) throw new RangeError(`minInstalls must be a whole number of at least 2, got ${minInstalls}`);
  const installsByCell = new Map<string, Set<string>>();
  const installsByTaxon = new Map<string, Map<string, Set<string>>>();
  let n = 0;
  for (const o of observations) {
    if (!onGrid(o.cell.lat) || !onGrid(o.cell.lon)) throw new Error(`observation cell (${o.cell.lat}, ${o.cell.lon}) is not on the ${LOCATION_CELL_DEG}-degree grid`);
    const key = occurrenceKey(o.cell.lat, o.cell.lon, monthOf(o.hour));
    n++;
    (installsByCell.get(key) ?? installsByCell.set(key, new Set()).get(key)!).add(o.installId);
    const byTaxon = installsByTaxon.get(key) ?? installsByTaxon.set(key, new Map()).get(key)!;
    (byTaxon.get(o.taxonId) ?? byTaxon.set(o.taxonId, new Set()).get(o.taxonId)!).add(o.installId);
  }
  const cells: OccurrenceTable['cells'] = {};
  let dropped = 0;
  for (const [key, installs] of [...installsByCell].sort(([a], [b]) => a.localeCompare(b))) {
    const counts: Record<string, number> = {};
    for (const [taxon, who] of installsByTaxon.get(key)!) if (who.size >= minInstalls) counts[taxon] = who.size;
    if (installs.size < minInstalls || Object.keys(counts).length === 0) {
      dropped++;
      continue;
    }
    cells[key] = counts;
  }
  return { cellDeg: LOCATION_CELL_DEG, minInstalls, cells, observations: n, cellsKept: Object.keys(cells).length, cellsDropped: dropped };
}

/** Reads the store's accepted corrections with a cell and writes the table into a version's folder. */
export async function writeOccurrenceTable(
  store: FeedbackStore,
  versionDir: string,
  minInstalls = DEFAULT_MIN_INSTALLS,
): Promise<{ file: string; cellsKept: number; cellsDropped: number; observations: number }> {
  const obs: Observation[] = [];
  for await (const c of acceptedCorrections(store)) {
    if (c.cell && c.taxonId) obs.push({ installId: c.installId, taxonId: c.taxonId, cell: c.cell, hour: c.hour });
  }
  const { observations, cellsKept, cellsDropped, ...table } = buildOccurrenceTable(obs, minInstalls);
  const file = path.join(versionDir, OCCURRENCE_FILE);
  writeFileSync(file, JSON.stringify(table) + '\n');
  return { file, cellsKept, cellsDropped, observations };
}
