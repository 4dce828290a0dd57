/**
 * The running model version's cell-by-month occurrence table
 * (models/registry/<version>/occurrence.json, written by the retraining
 * pipeline beside the version it registers), fetched only once location is
 * allowed, and kept in the Cache API so the prior has it offline. A version
 * registers once and its table is written with it, so a cached copy never
 * goes stale. No table (404, offline before the first fetch, an older
 * version without one, a damaged file) means the range table alone.
 */
import { parseOccurrenceTable, type OccurrenceTable } from '../../core/location-prior.ts';
import { MANIFEST_URL } from '../inference/client.ts';

export const OCCURRENCE_CACHE = 'wildsight-occurrence';

const urlOf = (version: string) => new URL(`${version}/occurrence.json`, new URL(MANIFEST_URL, location.href)).href;

/** One attempt per version per page load: a missing table is asked for again next launch, not on every photo. */
const loaded = new Map<string, Promise<OccurrenceTable | null>>();

export function occurrenceFor(version: string): Promise<OccurrenceTable | null> {
  let p = loaded.get(version);
  if (!p) loaded.set(version, (p = load(version)));
  return p;
}

async function load(version: string): Promise<OccurrenceTable | null> {
  const url = urlOf(version);
  const cache = typeof caches !== 'undefined' ? await caches.open(OCCURRENCE_CACHE).catch(() => null) : null;
  try {
    const res = await cache?.match(url);
    if (!res) {
      const net = await fetch(url).catch(() => null); // offline: range table only, asked again next launch
      if (!net?.ok) return null;
      const table = parseOccurrenceTable(await net.clone().json());
      await cache?.put(url, net).catch((err) => console.warn('occurrence table not cached', err));
      return table;
    }
    return parseOccurrenceTable(await res.json());
  } catch (err) {
    // A damaged file must not break identification: say so, drop the cached copy, use the range table.
    console.warn(`occurrence table of ${version} not used: ${(err as Error).message}`);
    await cache?.delete(url).catch(() => {});
    return null;
  }
}
