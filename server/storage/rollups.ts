/**
 * Keeping the rollup tables (migration 0007, rollup-rows.ts) up to date:
 * insertBatch calls addIdentifications and addCorrections inside its
 * transaction, so the rollups hold exactly the stored events at every
 * commit, with no job and no watermark to fall behind. Keys are upserted in
 * sorted order, so two concurrent batches on PostgreSQL lock shared rows in
 * the same order and cannot deadlock each other.
 *
 * Per-install weight (core/install-weight.ts) is not additive: an install's
 * weight in a day depends on all its events that day. Installs under the
 * cap weigh 1, so the plain counts are right for them; for the few that pass
 * it, rollup_heavy keeps their own counts by hour, and readers take off
 * (1 - cap/n) of those (monitoring-store.ts). The heavy counts are filled
 * from the raw events of that day the moment an install passes the cap (at
 * most cap + one batch of rows), then added to with each batch.
 */
import type { Kysely, Transaction } from 'kysely';
import { ABSTAIN, confidenceBin, identificationFact, type IdentificationFact } from '../../core/telemetry-facts.ts';
import { EVENTS_PER_INSTALL_CAP } from '../../core/install-weight.ts';
import { latencyBin } from '../../core/latency-bins.ts';
import type { Database } from './rows.ts';
import { chunks } from '../../core/chunks.ts';
import { removeGuardInstall } from './guard-rollups.ts';
import { pagesByEventId } from './event-pages.ts';

type Db = Kysely<Database> | Transaction<Database>;
const ROWS_PER_UPSERT = 100;
const SEP = '\u0000';

/** An identification as stored (events row). */
export interface StoredIdentification {
  event_id: string;
  install_id: string;
  model_version: string;
  hour: string;
  payload: string;
}

export const labelOf = (f: IdentificationFact) => (f.abstain ? ABSTAIN : f.top1);

/** The (dim, key) counts one identification adds to rollup_counts. */
function countKeys(f: IdentificationFact, withLatency: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [['label', labelOf(f)]];
  const c = confidenceBin(f.confidence);
  if (c !== null) out.push(['conf', String(c)]);
  if (withLatency) {
    const l = latencyBin(f.totalMs);
    if (l !== null) out.push([`lat:${f.backend}`, String(l)]);
  }
  return out;
}

export function bump(m: Map<string, number>, k: string, by = 1) {
  m.set(k, (m.get(k) ?? 0) + by);
}

export const sortedEntries = (m: Map<string, number>) => [...m].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const facts = (rows: readonly StoredIdentification[]): IdentificationFact[] =>
  rows.map((r) => identificationFact(r.event_id, r.model_version, r.hour, JSON.parse(r.payload) as Record<string, unknown>)).filter((f): f is IdentificationFact => f !== null);

/** Adds hourly counts (keys version, hour, dim, key) to rollup_counts, and the same per day to rollup_day_counts. */
async function upsertCounts(db: Db, m: Map<string, number>) {
  const daily = new Map<string, number>();
  for (const [k, n] of m) {
    const [v, hour, dim, key] = k.split(SEP);
    bump(daily, [v, hour.slice(0, 10), dim, key].join(SEP), n);
  }
  await addHourCounts(db, m);
  await addDayCounts(db, daily);
}

/** Adds hourly counts (keys version, hour, dim, key) to rollup_counts. */
async function addHourCounts(db: Db, m: Map<string, number>) {
  for (const part of chunks(sortedEntries(m), ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_counts')
      .values(
        part.map(([k, n]) => {
          const [model_version, hour, dim, key] = k.split(SEP);
          return { model_version, hour, dim, key, n };
        }),
      )
      .onConflict((oc) => oc.columns(['model_version', 'hour', 'dim', 'key']).doUpdateSet((eb) => ({ n: eb('rollup_counts.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
}

/** Adds daily counts (keys version, day, dim, key) to rollup_day_counts. */
async function addDayCounts(db: Db, m: Map<string, number>) {
  for (const part of chunks(sortedEntries(m), ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_day_counts')
      .values(
        part.map(([k, n]) => {
          const [model_version, day, dim, key] = k.split(SEP);
          return { model_version, day, dim, key, n };
        }),
      )
      .onConflict((oc) => oc.columns(['model_version', 'day', 'dim', 'key']).doUpdateSet((eb) => ({ n: eb('rollup_day_counts.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
}

/**
 * Adds to rollup_heavy and, with `days` (every write since migration 0014),
 * the same counts by day to rollup_heavy_days for whole-day buckets. Migration
 * 0007's rebuild runs before that table exists; 0014 sums its hours.
 */
async function upsertHeavy(db: Db, m: Map<string, number>, { days: withDays = true } = {}) {
  const days = new Map<string, number>();
  if (withDays)
    for (const [k, n] of m) {
      const [install_id, model_version, hour, dim, key] = k.split(SEP);
      bump(days, [install_id, model_version, hour.slice(0, 10), dim, key].join(SEP), n);
    }
  for (const part of chunks(sortedEntries(days), ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_heavy_days')
      .values(
        part.map(([k, n]) => {
          const [install_id, model_version, day, dim, key] = k.split(SEP);
          return { install_id, model_version, day, dim, key, n };
        }),
      )
      .onConflict((oc) => oc.columns(['install_id', 'model_version', 'day', 'dim', 'key']).doUpdateSet((eb) => ({ n: eb('rollup_heavy_days.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
  for (const part of chunks(sortedEntries(m), ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_heavy')
      .values(
        part.map(([k, n]) => {
          const [install_id, model_version, hour, dim, key] = k.split(SEP);
          return { install_id, model_version, hour, dim, key, n };
        }),
      )
      .onConflict((oc) => oc.columns(['install_id', 'model_version', 'hour', 'dim', 'key']).doUpdateSet((eb) => ({ n: eb('rollup_heavy.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
}

const heavyKeys = (f: IdentificationFact) => countKeys(f, false).map(([dim, key]) => [f.installId, f.modelVersion, f.hour, dim, key].join(SEP));

export interface AddOptions {
  cap?: number;
  /**
   * 'incremental' (ingest): an install that passes the cap gets its heavy
   * counts from the raw events of that day, which must all be stored.
   * 'defer': leave rollup_heavy alone (a rebuild fills it after all rows, rebuildHeavy).
   */
  heavy?: 'incremental' | 'defer';
}

/** Adds stored identifications (already in events) to the rollups. */
export async function addIdentifications(db: Db, rows: readonly StoredIdentification[], opts: AddOptions = {}): Promise<void> {
  await addIdentificationFacts(db, facts(rows), opts);
}

/** The same, from facts (insertBatch has the events parsed already). */
export async function addIdentificationFacts(db: Db, fs: readonly IdentificationFact[], opts: AddOptions = {}): Promise<void> {
  const cap = opts.cap ?? EVENTS_PER_INSTALL_CAP;
  if (!fs.length) return;
  const counts = new Map<string, number>();
  const hours = new Map<string, number>();
  const days = new Map<string, number>();
  for (const f of fs) {
    for (const [dim, key] of countKeys(f, true)) bump(counts, [f.modelVersion, f.hour, dim, key].join(SEP));
    bump(hours, [f.modelVersion, f.hour, f.installId].join(SEP));
    bump(days, [f.modelVersion, f.hour.slice(0, 10), f.installId].join(SEP));
  }
  // An install's first identification in an hour (or day) is one more distinct install there.
  const hourInstalls = new Map<string, number>();
  for (const part of chunks(sortedEntries(hours), ROWS_PER_UPSERT)) {
    const written = await db
      .insertInto('rollup_install_hours')
      .values(
        part.map(([k, n]) => {
          const [model_version, hour, install_id] = k.split(SEP);
          return { model_version, hour, install_id, n };
        }),
      )
      .onConflict((oc) => oc.columns(['model_version', 'hour', 'install_id']).doUpdateSet((eb) => ({ n: eb('rollup_install_hours.n', '+', eb.ref('excluded.n')) })))
      .returning(['model_version', 'hour', 'install_id', 'n'])
      .execute();
    for (const r of written) if (Number(r.n) === hours.get([r.model_version, r.hour, r.install_id].join(SEP))) bump(hourInstalls, [r.model_version, r.hour, 'installs', ''].join(SEP));
  }
  const heavy: Array<{ model_version: string; day: string; install_id: string; n: number; added: number }> = [];
  const dayInstalls = new Map<string, number>();
  for (const part of chunks(sortedEntries(days), ROWS_PER_UPSERT)) {
    const written = await db
      .insertInto('rollup_install_days')
      .values(
        part.map(([k, n]) => {
          const [model_version, day, install_id] = k.split(SEP);
          return { model_version, day, install_id, n };
        }),
      )
      .onConflict((oc) => oc.columns(['model_version', 'day', 'install_id']).doUpdateSet((eb) => ({ n: eb('rollup_install_days.n', '+', eb.ref('excluded.n')) })))
      .returning(['model_version', 'day', 'install_id', 'n'])
      .execute();
    for (const r of written) {
      const added = days.get([r.model_version, r.day, r.install_id].join(SEP))!;
      if (Number(r.n) === added) bump(dayInstalls, [r.model_version, r.day, 'installs', ''].join(SEP));
      if (Number(r.n) > cap) heavy.push({ ...r, n: Number(r.n), added });
    }
  }
  await upsertCounts(db, counts);
  await upsertInstallCounts(db, hourInstalls, dayInstalls);
  if ((opts.heavy ?? 'incremental') === 'defer' || !heavy.length) return;
  const detail = new Map<string, number>();
  for (const h of heavy) {
    const mine = fs.filter((f) => f.modelVersion === h.model_version && f.installId === h.install_id && f.hour.startsWith(h.day));
    // Passed the cap with this batch: everything it sent that day (this batch included) from the raw events.
    const source = h.n - h.added <= cap ? await dayEvents(db, h) : mine;
    for (const f of source) for (const k of heavyKeys(f)) bump(detail, k);
  }
  await upsertHeavy(db, detail);
}

/** Distinct-install counts (keys version, hour or day, 'installs', ''): hourly ones in rollup_counts only, daily ones in rollup_day_counts only (a day is not the sum of its hours). */
async function upsertInstallCounts(db: Db, hourly: Map<string, number>, daily: Map<string, number>) {
  await addHourCounts(db, hourly);
  await addDayCounts(db, daily);
}

/** An install's stored identifications of one version and day. */
async function dayEvents(db: Db, h: { model_version: string; day: string; install_id: string }): Promise<IdentificationFact[]> {
  const next = new Date(Date.parse(`${h.day}T00:00:00.000Z`) + 86_400_000).toISOString();
  const rows = await db
    .selectFrom('events')
    .select(['event_id', 'install_id', 'model_version', 'hour', 'payload'])
    .where('install_id', '=', h.install_id)
    .where('type', '=', 'identification')
    .where('model_version', '=', h.model_version)
    .where('hour', '>=', `${h.day}T00:00:00.000Z`)
    .where('hour', '<', next)
    .execute();
  return facts(rows);
}

/** Refills rollup_heavy (and not rollup_heavy_days: see upsertHeavy) from the raw events of every install-day past the cap (after a rebuild with heavy: 'defer'); migration 0007 runs it. */
export async function rebuildHeavy(db: Db, cap = EVENTS_PER_INSTALL_CAP): Promise<void> {
  await db.deleteFrom('rollup_heavy').execute();
  const over = await db.selectFrom('rollup_install_days').selectAll().where('n', '>', cap).execute();
  for (const h of over) {
    const detail = new Map<string, number>();
    for (const f of await dayEvents(db, h)) for (const k of heavyKeys(f)) bump(detail, k);
    await upsertHeavy(db, detail, { days: false });
  }
}

/** A stored identification's shadow run as the rollups see it: its install (as stored) and payload.shadow, if any. */
export interface ShadowSource {
  install_id: string;
  shadow: unknown;
}

/**
 * Adds the shadow runs of stored identifications to rollup_shadow. The
 * counts follow the SQL shadowInstalls used to compute from the raw
 * payloads: runs per (shadow version, install); failed when shadow.failed is
 * true; a disagreement when it did not fail and top1Agree is not true;
 * top5Overlap summed, missing as 0.
 */
export async function addShadowRuns(db: Db, rows: readonly ShadowSource[]): Promise<void> {
  const m = new Map<string, [number, number, number, number]>();
  for (const r of rows) {
    const s = r.shadow as { modelVersion?: unknown; failed?: unknown; top1Agree?: unknown; top5Overlap?: unknown } | null | undefined;
    if (!s || typeof s !== 'object' || typeof s.modelVersion !== 'string') continue;
    const k = [s.modelVersion, r.install_id].join(SEP);
    const c = m.get(k) ?? [0, 0, 0, 0];
    const failed = s.failed === true;
    c[0] += 1;
    c[1] += failed ? 1 : 0;
    c[2] += !failed && s.top1Agree !== true ? 1 : 0;
    c[3] += Number(s.top5Overlap ?? 0);
    m.set(k, c);
  }
  const sorted = [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const part of chunks(sorted, ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_shadow')
      .values(
        part.map(([k, [runs, failures, disagreements, top5_overlap]]) => {
          const [shadow_version, install_id] = k.split(SEP);
          return { shadow_version, install_id, runs, failures, disagreements, top5_overlap };
        }),
      )
      .onConflict((oc) =>
        oc.columns(['shadow_version', 'install_id']).doUpdateSet((eb) => ({
          runs: eb('rollup_shadow.runs', '+', eb.ref('excluded.runs')),
          failures: eb('rollup_shadow.failures', '+', eb.ref('excluded.failures')),
          disagreements: eb('rollup_shadow.disagreements', '+', eb.ref('excluded.disagreements')),
          top5_overlap: eb('rollup_shadow.top5_overlap', '+', eb.ref('excluded.top5_overlap')),
        })),
      )
      .execute();
  }
}

/** What a correction's identification answered while it is not stored (core/metrics.ts correctedPairs). */
export const UNKNOWN = '(unknown)';
/** The corrected side of a pair, as core/metrics.ts correctedPairs names it. */
export const correctedLabel = (r: { taxon_id: string | null; proposed_name: string | null }) => r.taxon_id ?? `"${r.proposed_name}"`;
/** rollup_counts dim of the corrected pairs: key is [predicted, corrected] as JSON. */
export const PAIR_DIM = 'pair';

export interface PairChange {
  model_version: string;
  hour: string;
  predicted: string;
  corrected: string;
  by: number;
}

/** Counts of corrections (verdict corrected) per version, hour and (predicted, corrected) pair. */
export async function addPairs(db: Db, changes: readonly PairChange[]): Promise<void> {
  if (!changes.length) return;
  const m = new Map<string, number>();
  for (const c of changes) bump(m, [c.model_version, c.hour, PAIR_DIM, JSON.stringify([c.predicted, c.corrected])].join(SEP), c.by);
  await upsertCounts(db, m);
}

/**
 * Pair changes for corrections (verdict corrected) read with what their
 * identification answered (payload null: not stored), `by` each.
 */
export function pairChanges(
  rows: ReadonlyArray<{ model_version: string; hour: string; taxon_id: string | null; proposed_name: string | null; cited_id: string | null; cited_version: string | null; payload: string | null }>,
  by: number,
  predictedAs?: string,
): PairChange[] {
  return rows.map((r) => {
    const f = r.payload !== null && r.cited_id !== null ? identificationFact(r.cited_id, r.cited_version ?? '', '', JSON.parse(r.payload) as Record<string, unknown>) : null;
    return { model_version: r.model_version, hour: r.hour, predicted: predictedAs ?? (f ? labelOf(f) : UNKNOWN), corrected: correctedLabel(r), by };
  });
}

/** Corrections (verdict corrected) with their cited identification, where stored; `where` narrows them. */
export function correctionsWithCited(db: Db) {
  return db
    .selectFrom('corrections as c')
    .leftJoin('events as e', (j) => j.onRef('e.event_id', '=', 'c.corrects_event_id').on('e.type', '=', 'identification'))
    .select(['c.model_version', 'c.hour', 'c.taxon_id', 'c.proposed_name', 'e.event_id as cited_id', 'e.model_version as cited_version', 'e.payload'])
    .where('c.verdict', '=', 'corrected');
}

/** A correction as the rollups see it: only evidence (grounded, within the cap) is added. */
export interface CorrectionKey {
  model_version: string;
  hour: string;
  install_id: string;
  verdict: string;
}

export async function addCorrections(db: Db, rows: readonly CorrectionKey[], sign: 1 | -1 = 1): Promise<void> {
  const m = new Map<string, number>();
  for (const r of rows) bump(m, [r.model_version, r.hour, r.install_id, r.verdict].join(SEP), sign);
  for (const part of chunks(sortedEntries(m), ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_corrections')
      .values(
        part.map(([k, n]) => {
          const [model_version, hour, install_id, verdict] = k.split(SEP);
          return { model_version, hour, install_id, verdict, n };
        }),
      )
      .onConflict((oc) => oc.columns(['model_version', 'hour', 'install_id', 'verdict']).doUpdateSet((eb) => ({ n: eb('rollup_corrections.n', '+', eb.ref('excluded.n')) })))
      .execute();
  }
}

/**
 * Takes an install's data out of the rollups ("Delete my data"), before its
 * events are deleted: its per-install rows go, and what its stored
 * identifications added to the shared counts is subtracted.
 */
export async function removeInstall(db: Db, installId: string): Promise<void> {
  const identifications = db.selectFrom('events').select(['event_id', 'install_id', 'model_version', 'hour', 'payload']).where('install_id', '=', installId).where('type', '=', 'identification');
  for await (const rows of pagesByEventId(identifications, 1000)) {
    const counts = new Map<string, number>();
    for (const f of facts(rows)) for (const [dim, key] of countKeys(f, true)) bump(counts, [f.modelVersion, f.hour, dim, key].join(SEP), -1);
    await upsertCounts(db, counts);
  }
  // Its corrections leave the pairs; others' corrections of its identifications go back to '(unknown)'.
  const own = await correctionsWithCited(db).where('c.install_id', '=', installId).execute();
  const others = await correctionsWithCited(db).where('e.install_id', '=', installId).where('c.install_id', '!=', installId).execute();
  await addPairs(db, [...pairChanges(own, -1), ...pairChanges(others, -1), ...pairChanges(others, 1, UNKNOWN)]);
  // One distinct install fewer in each hour and day it had identifications.
  const hourly = new Map<string, number>();
  const daily = new Map<string, number>();
  for (const r of await db.selectFrom('rollup_install_hours').select(['model_version', 'hour']).where('install_id', '=', installId).execute())
    bump(hourly, [r.model_version, r.hour, 'installs', ''].join(SEP), -1);
  for (const r of await db.selectFrom('rollup_install_days').select(['model_version', 'day']).where('install_id', '=', installId).execute())
    bump(daily, [r.model_version, r.day, 'installs', ''].join(SEP), -1);
  await upsertInstallCounts(db, hourly, daily);
  await db.deleteFrom('rollup_counts').where('n', '=', 0).execute();
  await db.deleteFrom('rollup_day_counts').where('n', '=', 0).execute();
  for (const table of ['rollup_install_hours', 'rollup_install_days', 'rollup_heavy', 'rollup_heavy_days', 'rollup_corrections', 'rollup_shadow'] as const) {
    await db.deleteFrom(table).where('install_id', '=', installId).execute();
  }
  await removeGuardInstall(db, installId);
}
