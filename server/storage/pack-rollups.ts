/**
 * Keeping the species-pack rollups (migration 0012, pack-rollup-rows.ts)
 * exact: insertBatch adds each stored identification that ran a pack and
 * each correction of one that became evidence, in its own transaction;
 * retention records, per install, what the runs it deletes had added
 * (retirePackRuns), so that "Delete my data" (removePackInstall) can still
 * take an install's runs out of the counts after their raw events are gone.
 *
 * The per-install weight (core/pack-metrics.ts) is not additive, so as for
 * the base rollups (rollups.ts) the few installs past the cap in a (pack,
 * version, day) keep their own counts in rollup_pack_heavy, filled from that
 * day's raw runs and corrections the moment they pass it and added to after.
 * Keys are upserted in sorted order, so concurrent batches on PostgreSQL
 * lock shared rows in the same order.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { EVENTS_PER_INSTALL_CAP } from '../../core/install-weight.ts';
import { packRunOf, runCounts, type PackRun } from '../../core/pack-metrics.ts';
import { chunks } from '../../core/chunks.ts';
import type { Database } from './rows.ts';
import { bump, sortedEntries } from './rollups.ts';
import { pagesByEventId } from './event-pages.ts';

type Db = Kysely<Database> | Transaction<Database>;
const SEP = '\u0000';
const ROWS_PER_UPSERT = 100;
const PAGE = 1000;
const DAY_MS = 86_400_000;

/** An identification as stored (events row); its payload as text or already parsed. */
export interface PackSource {
  event_id: string;
  install_id: string;
  hour: string;
  payload: string | Record<string, unknown>;
}

const parsed = (p: PackSource['payload']) => (typeof p === 'string' ? (JSON.parse(p) as Record<string, unknown>) : p);
export const packRuns = (rows: readonly PackSource[]): PackRun[] => rows.map((r) => packRunOf(r.event_id, r.install_id, r.hour, parsed(r.payload))).filter((x): x is PackRun => x !== null);

type PackTable = 'rollup_pack_counts' | 'rollup_pack_day_counts' | 'rollup_pack_install_days' | 'rollup_pack_heavy' | 'rollup_pack_retired';
const KEYS: Record<PackTable, readonly string[]> = {
  rollup_pack_counts: ['pack_id', 'pack_version', 'hour', 'dim', 'key'],
  rollup_pack_day_counts: ['pack_id', 'pack_version', 'day', 'dim', 'key'],
  rollup_pack_install_days: ['pack_id', 'pack_version', 'day', 'install_id'],
  rollup_pack_heavy: ['install_id', 'pack_id', 'pack_version', 'day', 'dim', 'key'],
  rollup_pack_retired: ['install_id', 'pack_id', 'pack_version', 'hour', 'dim', 'key'],
};

/**
 * Adds counts (map keys: the table's key columns joined by SEP) to a pack
 * table, one upsert per hundred keys; answers the rows as they are after,
 * keys split into their columns. One statement for every table: the same
 * SQL runs on SQLite and PostgreSQL.
 */
async function addTo(db: Db, table: PackTable, m: Map<string, number>): Promise<Array<{ key: string[]; n: number }>> {
  const cols = KEYS[table];
  const out: Array<{ key: string[]; n: number }> = [];
  for (const part of chunks(sortedEntries(m), ROWS_PER_UPSERT)) {
    const values = sql.join(part.map(([k, n]) => sql`(${sql.join([...k.split(SEP), n])})`));
    const keyCols = sql.join(cols.map((c) => sql.ref(c)));
    const { rows } = await sql<Record<string, string | number>>`insert into ${sql.table(table)} (${keyCols}, n) values ${values}
      on conflict (${keyCols}) do update set n = ${sql.ref(`${table}.n`)} + excluded.n returning ${keyCols}, n`.execute(db);
    for (const r of rows) out.push({ key: cols.map((c) => String(r[c])), n: Number(r.n) });
  }
  return out;
}

/** Adds (pack, version, hour, dim, key) counts to the hourly table and, summed per day, to the daily one. */
async function addCounts(db: Db, hourly: Map<string, number>) {
  const daily = new Map<string, number>();
  for (const [k, n] of hourly) {
    const [id, version, hour, dim, key] = k.split(SEP);
    bump(daily, [id, version, hour.slice(0, 10), dim, key].join(SEP), n);
  }
  await addTo(db, 'rollup_pack_counts', hourly);
  await addTo(db, 'rollup_pack_day_counts', daily);
}

const runKeys = (r: PackRun) => runCounts(r).map(([dim, key, by]) => [[r.packId, r.packVersion, r.hour, dim, key].join(SEP), by] as const);
const dayOf = (hour: string) => hour.slice(0, 10);
/** (pack, version, day, install): the group an install's weight is reckoned in. */
const groupOf = (x: { packId: string; packVersion: string; hour: string; installId: string }) => [x.packId, x.packVersion, dayOf(x.hour), x.installId].join(SEP);
const heavyKey = (g: string, dim: string, key: string) => {
  const [id, version, day, install] = g.split(SEP);
  return [install, id, version, day, dim, key].join(SEP);
};

export interface AddPackOptions {
  cap?: number;
  /** 'defer': leave rollup_pack_heavy alone (a backfill refills it at the end, rebuildPackHeavy). */
  heavy?: 'incremental' | 'defer';
}

/**
 * Adds stored pack runs; answers the groups whose heavy counts were filled
 * from the raw rows now (they already hold every evidence correction stored
 * so far, this batch's included).
 */
export async function addPackRuns(db: Db, runs: readonly PackRun[], opts: AddPackOptions = {}): Promise<Set<string>> {
  const cap = opts.cap ?? EVENTS_PER_INSTALL_CAP;
  const filled = new Set<string>();
  if (!runs.length) return filled;
  const counts = new Map<string, number>();
  const perInstall = new Map<string, number>();
  for (const r of runs) {
    for (const [k, by] of runKeys(r)) bump(counts, k, by);
    bump(perInstall, groupOf(r), 1);
  }
  await addCounts(db, counts);
  const after = await addTo(db, 'rollup_pack_install_days', perInstall);
  if (opts.heavy === 'defer') return filled;
  const detail = new Map<string, number>();
  for (const { key, n } of after) {
    if (n <= cap) continue;
    const g = key.join(SEP);
    const added = perInstall.get(g)!;
    if (n - added <= cap) {
      // Passed the cap with this batch: everything of that day from the raw rows.
      filled.add(g);
      await addGroupDetail(db, g, detail);
    } else for (const r of runs) if (groupOf(r) === g) for (const [dim, k, by] of runCounts(r)) bump(detail, heavyKey(g, dim, k), by);
  }
  await addTo(db, 'rollup_pack_heavy', detail);
  return filled;
}

/** An install's stored runs and evidence verdicts of one (pack, version, day), into heavy-row counts. */
async function addGroupDetail(db: Db, g: string, detail: Map<string, number>) {
  const [id, version, day, install] = g.split(SEP);
  const from = `${day}T00:00:00.000Z`;
  const to = new Date(Date.parse(from) + DAY_MS).toISOString();
  const rows = await db
    .selectFrom('events')
    .select(['event_id', 'install_id', 'hour', 'payload'])
    .where('install_id', '=', install)
    .where('type', '=', 'identification')
    .where('hour', '>=', from)
    .where('hour', '<', to)
    .execute();
  for (const r of packRuns(rows)) if (r.packId === id && r.packVersion === version) for (const [dim, k, by] of runCounts(r)) bump(detail, heavyKey(g, dim, k), by);
  for (const v of await verdicts(db, (q) => q.where('e.install_id', '=', install).where('e.hour', '>=', from).where('e.hour', '<', to)))
    if (v.run.packId === id && v.run.packVersion === version) bump(detail, heavyKey(g, 'verdict', v.verdict), 1);
}

type VerdictQuery = ReturnType<typeof verdictQuery>;
/** Evidence corrections (grounded, within the cap) with the identification they correct. */
const verdictQuery = (db: Db) =>
  db
    .selectFrom('corrections as c')
    .innerJoin('events as e', (j) => j.onRef('e.event_id', '=', 'c.corrects_event_id').on('e.type', '=', 'identification'))
    .select(['c.verdict', 'e.event_id', 'e.install_id', 'e.hour', 'e.payload'])
    .where('c.grounding', '=', 'grounded')
    .where('c.counted', '=', 1);

/** Evidence corrections of pack runs, narrowed by `where`, each with its run. */
async function verdicts(db: Db, where: (q: VerdictQuery) => VerdictQuery): Promise<Array<{ run: PackRun; verdict: string }>> {
  const out: Array<{ run: PackRun; verdict: string }> = [];
  for (const r of await where(verdictQuery(db)).execute()) {
    const run = packRunOf(r.event_id, r.install_id, r.hour, JSON.parse(r.payload) as Record<string, unknown>);
    if (run) out.push({ run, verdict: r.verdict });
  }
  return out;
}

/**
 * Adds corrections that became evidence in this batch (by event id) to the
 * counts of the run they correct, and to its install's heavy counts when
 * that install is past the cap there (unless `filled` says those were just
 * read from the raw rows, this correction included).
 */
export async function addPackVerdicts(db: Db, correctionIds: readonly string[], filled: ReadonlySet<string> = new Set(), cap = EVENTS_PER_INSTALL_CAP, sign: 1 | -1 = 1): Promise<void> {
  const found: Array<{ run: PackRun; verdict: string }> = [];
  for (const part of chunks([...correctionIds], 500)) found.push(...(await verdicts(db, (q) => q.where('c.event_id', 'in', part))));
  if (!found.length) return;
  await addVerdictCounts(db, found, filled, cap, sign);
}

async function addVerdictCounts(db: Db, found: ReadonlyArray<{ run: PackRun; verdict: string }>, filled: ReadonlySet<string>, cap: number, sign: 1 | -1) {
  const counts = new Map<string, number>();
  for (const { run, verdict } of found) bump(counts, [run.packId, run.packVersion, run.hour, 'verdict', verdict].join(SEP), sign);
  await addCounts(db, counts);
  if (sign < 0) return;
  const installs = [...new Set(found.map((f) => f.run.installId))];
  const heavy = new Set<string>();
  for (const part of chunks(installs, 500)) {
    const rows = await db.selectFrom('rollup_pack_install_days').select(['pack_id', 'pack_version', 'day', 'install_id']).where('install_id', 'in', part).where('n', '>', cap).execute();
    for (const r of rows) heavy.add([r.pack_id, r.pack_version, r.day, r.install_id].join(SEP));
  }
  const detail = new Map<string, number>();
  for (const { run, verdict } of found) {
    const g = groupOf(run);
    if (heavy.has(g) && !filled.has(g)) bump(detail, heavyKey(g, 'verdict', verdict), 1);
  }
  await addTo(db, 'rollup_pack_heavy', detail);
}

/** What insertBatch calls, in its transaction: the batch's stored identifications, then the corrections that became evidence with it. */
export async function addPackBatch(db: Db, identifications: readonly PackSource[], evidenceCorrectionIds: readonly string[]): Promise<void> {
  const filled = await addPackRuns(db, packRuns(identifications));
  await addPackVerdicts(db, evidenceCorrectionIds, filled);
}

/** Refills rollup_pack_heavy from the raw rows of every group past the cap (after a backfill with heavy: 'defer'). */
export async function rebuildPackHeavy(db: Db, cap = EVENTS_PER_INSTALL_CAP): Promise<void> {
  await db.deleteFrom('rollup_pack_heavy').execute();
  const over = await db.selectFrom('rollup_pack_install_days').selectAll().where('n', '>', cap).execute();
  for (const h of over) {
    const detail = new Map<string, number>();
    await addGroupDetail(db, [h.pack_id, h.pack_version, h.day, h.install_id].join(SEP), detail);
    await addTo(db, 'rollup_pack_heavy', detail);
  }
}

/** Every evidence correction of a pack run into the counts (a backfill, after the runs and rebuildPackHeavy). */
export async function addAllPackVerdicts(db: Db): Promise<void> {
  const counts = new Map<string, number>();
  for (const { run, verdict } of await verdicts(db, (q) => q)) bump(counts, [run.packId, run.packVersion, run.hour, 'verdict', verdict].join(SEP), 1);
  await addCounts(db, counts);
}

/**
 * Retention is about to delete these identifications (in its transaction):
 * what their pack runs added is kept per install in rollup_pack_retired,
 * so that deleting the install later still takes it out of the counts.
 */
export async function retirePackRuns(db: Db, rows: readonly PackSource[]): Promise<void> {
  const m = new Map<string, number>();
  for (const r of packRuns(rows)) for (const [dim, key, by] of runCounts(r)) bump(m, [r.installId, r.packId, r.packVersion, r.hour, dim, key].join(SEP), by);
  await addTo(db, 'rollup_pack_retired', m);
}

/**
 * Takes an install's data out of the pack rollups ("Delete my data"), before
 * its events are deleted: its stored runs and the runs retention already
 * deleted are subtracted, its evidence corrections too (a grounded
 * correction is always by the run's own install), and its per-install rows go.
 */
export async function removePackInstall(db: Db, installId: string): Promise<void> {
  const id = installId.toLowerCase();
  const own = db.selectFrom('events').select(['event_id', 'install_id', 'hour', 'payload']).where('install_id', '=', id).where('type', '=', 'identification');
  for await (const rows of pagesByEventId(own, PAGE)) {
    const counts = new Map<string, number>();
    for (const r of packRuns(rows)) for (const [k, by] of runKeys(r)) bump(counts, k, -by);
    await addCounts(db, counts);
  }
  const retired = new Map<string, number>();
  for (const r of await db.selectFrom('rollup_pack_retired').selectAll().where('install_id', '=', id).execute())
    bump(retired, [r.pack_id, r.pack_version, r.hour, r.dim, r.key].join(SEP), -Number(r.n));
  await addCounts(db, retired);
  await addVerdictCounts(db, await verdicts(db, (q) => q.where('e.install_id', '=', id)), new Set(), EVENTS_PER_INSTALL_CAP, -1);
  for (const table of ['rollup_pack_install_days', 'rollup_pack_heavy', 'rollup_pack_retired'] as const) await db.deleteFrom(table).where('install_id', '=', id).execute();
  await db.deleteFrom('rollup_pack_counts').where('n', '=', 0).execute();
  await db.deleteFrom('rollup_pack_day_counts').where('n', '=', 0).execute();
}
