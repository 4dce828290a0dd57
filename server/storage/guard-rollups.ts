/**
 * The rollout guard's per-install tally (migration 0011, table rollup_guard):
 * per arm, hour of arrival and install, what rollout-store.ts armInstalls
 * used to group from raw events on every tick. An arm is a base model
 * version ('1.0.0'), or a species pack's version (`pack:<id>@<version>`,
 * packArm) for identifications that carried `pack`, so a pack rollout gets
 * the same per-install arms.
 *
 * Kept exact, as plain sums, inside the transaction of whatever changes
 * what the raw read would see:
 * - insertBatch (addGuardTallies): stored identifications and model_status
 *   reports under their arrival hour; an identification is "corrected" once
 *   it has its first evidence correction (verdict corrected, grounded,
 *   counted), counted under the identification's own arrival hour, whether
 *   that correction arrived after it or before it and was grounded now;
 * - retention (subtractDeleted): what the deleted raw events had added;
 * - "Delete my data" (removeGuardInstall): the install's rows go.
 * Revocation and fresh credentials are applied when read (countedSources),
 * as before. A correction's `counted` never changes after it is stored.
 *
 * The guard's window has millisecond edges (step start, now), so readers
 * take whole hours from here and the two partial hours at the edges from
 * raw events (rawArmCounts), plus the corrections of whole-hour
 * identifications that arrived only after the window's end (lateCorrected).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { FAILING_MODEL_OUTCOMES, type ModelOutcome } from '../../core/telemetry.ts';
import { chunks } from '../../core/chunks.ts';
import type { Database } from './rows.ts';
import type { InstallCounts } from '../../core/install-aggregate.ts';
import { pagesByEventId } from './event-pages.ts';
import { truncateToHour } from '../../core/telemetry.ts';

type Db = Kysely<Database> | Transaction<Database>;
const ROWS_PER_UPSERT = 100;
const SEP = '\u0000';

/** One row of rollup_guard: sums, so rows of hours and batches merge by adding. */
export interface GuardTallyRow {
  /** A base model version, or packArm(id, version). */
  arm: string;
  /** The hour the events arrived in (received_at truncated), ISO as stored. */
  hour: string;
  install_id: string;
  identifications: number;
  abstains: number;
  /** The sum of identifications' `errors` counts. */
  errors: number;
  /** Sum and count of timings.totalMs, so a mean over any hours is exact. */
  latency_sum: number;
  latency_n: number;
  /** Identifications with at least one evidence correction of verdict corrected. */
  corrected: number;
  status_reports: number;
  /** model_status reports with a failing outcome (core/telemetry.ts FAILING_MODEL_OUTCOMES). */
  failures: number;
}

export interface GuardTables {
  rollup_guard: GuardTallyRow;
}

/** What the guard compares: a base model version, or a species pack's version. */
export interface GuardArm {
  /** A species pack's id; absent for the base model. */
  pack?: string;
  version: string;
}

export const packArm = (id: string, version: string) => `pack:${id}@${version}`;
export const armKey = (arm: GuardArm) => (arm.pack ? packArm(arm.pack, arm.version) : arm.version);
export const receivedHour = (iso: string) => truncateToHour(iso);

/** The counts of one install in an arm over some time, in the column order of GuardTallyRow. */
export type Tally = [identifications: number, abstains: number, errors: number, latencySum: number, latencyN: number, corrected: number, statusReports: number, failures: number];
export const emptyTally = (): Tally => [0, 0, 0, 0, 0, 0, 0, 0];
const COLUMNS = ['identifications', 'abstains', 'errors', 'latency_sum', 'latency_n', 'corrected', 'status_reports', 'failures'] as const;

export function addTally(to: Tally, from: Tally, sign = 1): Tally {
  for (let i = 0; i < to.length; i++) to[i] += sign * from[i];
  return to;
}

/** An event as stored, with its payload parsed (at ingest, the event itself). */
export interface GuardEvent {
  type: string;
  install_id: string;
  model_version: string;
  received_at: string;
  payload: Record<string, unknown>;
}

/** The arms an identification counts in: its model version, and its pack's version when it carried one. */
function armsOf(e: GuardEvent): string[] {
  const pack = e.payload.pack as { id?: unknown; version?: unknown } | undefined;
  return pack && typeof pack.id === 'string' && typeof pack.version === 'string' ? [e.model_version, packArm(pack.id, pack.version)] : [e.model_version];
}

function bump(m: Map<string, Tally>, arm: string, e: GuardEvent, t: Tally) {
  const k = [arm, receivedHour(e.received_at), e.install_id].join(SEP);
  m.set(k, addTally(m.get(k) ?? emptyTally(), t));
}

/** What stored identifications and model_status reports add (sign -1: take off), by arm, arrival hour and install. */
export function eventTallies(events: readonly GuardEvent[], sign: 1 | -1 = 1, into = new Map<string, Tally>()): Map<string, Tally> {
  for (const e of events) {
    const p = e.payload;
    if (e.type === 'identification') {
      const ms = (p.timings as { totalMs?: unknown } | undefined)?.totalMs;
      const hasMs = typeof ms === 'number';
      const t: Tally = [sign, p.abstain === true ? sign : 0, sign * Number(p.errors ?? 0), hasMs ? sign * ms : 0, hasMs ? sign : 0, 0, 0, 0];
      for (const arm of armsOf(e)) bump(into, arm, e, t);
    } else if (e.type === 'model_status') {
      const failing = FAILING_MODEL_OUTCOMES.has(p.outcome as ModelOutcome);
      bump(into, e.model_version, e, [0, 0, 0, 0, 0, 0, sign, failing ? sign : 0]);
    }
  }
  return into;
}

/** Identifications that are corrected (each once), under their arms. */
function correctedTallies(identifications: readonly GuardEvent[], into: Map<string, Tally>) {
  for (const e of identifications) for (const arm of armsOf(e)) bump(into, arm, e, [0, 0, 0, 0, 0, 1, 0, 0]);
}

export async function upsertTallies(db: Db, m: Map<string, Tally>): Promise<void> {
  const rows = [...m].filter(([, t]) => t.some((x) => x !== 0)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Sorted keys: concurrent batches on PostgreSQL lock shared rows in the same order.
  for (const part of chunks(rows, ROWS_PER_UPSERT)) {
    await db
      .insertInto('rollup_guard')
      .values(
        part.map(([k, t]) => {
          const [arm, hour, install_id] = k.split(SEP);
          return { arm, hour, install_id, ...Object.fromEntries(COLUMNS.map((c, i) => [c, t[i]])) } as GuardTallyRow;
        }),
      )
      .onConflict((oc) => oc.columns(['arm', 'hour', 'install_id']).doUpdateSet((eb) => Object.fromEntries(COLUMNS.map((c) => [c, eb(`rollup_guard.${c}`, '+', eb.ref(`excluded.${c}`))]))))
      .execute();
  }
}

/** The evidence rule of the guard's corrections: verdict corrected, grounded, within the install's daily cap. */
export interface CorrectionStanding {
  corrects_event_id: string;
  verdict: string;
  grounding: string;
  counted: number;
}
const isEvidence = (c: CorrectionStanding) => c.verdict === 'corrected' && c.grounding === 'grounded' && Number(c.counted) === 1;

/**
 * insertBatch's part, in its transaction, after its corrections are stored
 * and earlier ones grounded: `stored` are the events this batch stored
 * (received at one time), `corrections` the correction rows it stored.
 */
export async function addGuardTallies(db: Transaction<Database>, stored: readonly (GuardEvent & { event_id: string })[], corrections: readonly CorrectionStanding[]): Promise<void> {
  const m = eventTallies(stored);
  // An identification becomes corrected with its first evidence correction. Candidates: those this batch's
  // evidence corrections cite, and identifications stored now (earlier corrections of them were grounded just now).
  const fresh = new Map(stored.filter((e) => e.type === 'identification').map((e) => [e.event_id, e]));
  const inBatch = new Map<string, number>();
  for (const c of corrections) if (isEvidence(c)) inBatch.set(c.corrects_event_id, (inBatch.get(c.corrects_event_id) ?? 0) + 1);
  const gained: string[] = [];
  for (const part of chunks([...new Set([...fresh.keys(), ...inBatch.keys()])], ROWS_PER_UPSERT)) {
    const rows = await db
      .selectFrom('corrections')
      .select(['corrects_event_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('corrects_event_id', 'in', part)
      .where('verdict', '=', 'corrected')
      .where('grounding', '=', 'grounded')
      .where('counted', '=', 1)
      .groupBy('corrects_event_id')
      .execute();
    // Stored now: every evidence correction of it is new. Stored before: new only if all of its evidence is this batch's.
    for (const r of rows) if (fresh.has(r.corrects_event_id) || Number(r.n) === inBatch.get(r.corrects_event_id)) gained.push(r.corrects_event_id);
  }
  const identifications: GuardEvent[] = gained.filter((id) => fresh.has(id)).map((id) => fresh.get(id)!);
  for (const part of chunks(
    gained.filter((id) => !fresh.has(id)),
    ROWS_PER_UPSERT,
  )) {
    const rows = await db.selectFrom('events').select(['type', 'install_id', 'model_version', 'received_at', 'payload']).where('type', '=', 'identification').where('event_id', 'in', part).execute();
    identifications.push(...rows.map(parsed));
  }
  correctedTallies(identifications, m);
  await upsertTallies(db, m);
}

export const parsed = (r: Omit<GuardEvent, 'payload'> & { payload: string }): GuardEvent => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> });

/** Retention deleted these raw identification and model_status events (none cited by a correction): take off what they added. */
export async function subtractDeleted(db: Transaction<Database>, deleted: ReadonlyArray<Omit<GuardEvent, 'payload'> & { payload: string }>): Promise<void> {
  await upsertTallies(db, eventTallies(deleted.map(parsed), -1));
  await db.deleteFrom('rollup_guard').where('identifications', '=', 0).where('status_reports', '=', 0).where('corrected', '=', 0).execute();
}

/** "Delete my data": the install's rows go (its events and corrections go in the same transaction). */
export async function removeGuardInstall(db: Db, installId: string): Promise<void> {
  await db.deleteFrom('rollup_guard').where('install_id', '=', installId).execute();
}

/** Fills rollup_guard from the stored events (migration 0011), a page at a time. */
export async function backfillGuard(db: Db, page = 5000): Promise<void> {
  const events = db.selectFrom('events').select(['event_id', 'type', 'install_id', 'model_version', 'received_at', 'payload']).where('type', 'in', ['identification', 'model_status']);
  for await (const rows of pagesByEventId(events, page)) await upsertTallies(db, eventTallies(rows.map(parsed)));
  // Corrected identifications, each once, whenever their evidence arrived.
  const corrected = db
    .selectFrom('events as e')
    .select(['e.event_id', 'e.type', 'e.install_id', 'e.model_version', 'e.received_at', 'e.payload'])
    .where('e.type', '=', 'identification')
    .where(({ exists, selectFrom }) => exists(selectFrom('corrections as c').select('c.event_id').whereRef('c.corrects_event_id', '=', 'e.event_id').where(evidence('c'))));
  for await (const rows of pagesByEventId(corrected, page, 'e.event_id')) {
    const m = new Map<string, Tally>();
    correctedTallies(rows.map(parsed), m);
    await upsertTallies(db, m);
  }
}

/** PostgreSQL or SQLite: the two spell JSON field access differently. */
export type SqlFlavor = 'sqlite' | 'postgres';

/** A JSON field of events.payload as SQL, per backend. */
export function payloadField(flavor: SqlFlavor, pathParts: string[], as: 'real' | 'bool' | 'text') {
  if (flavor === 'postgres') {
    // Path parts are fixed names in the code that calls this, never input.
    const access = sql.raw(
      `(payload::jsonb${pathParts
        .slice(0, -1)
        .map((k) => `->'${k}'`)
        .join('')}->>'${pathParts.at(-1)}')`,
    );
    return as === 'bool' ? sql<number>`case when ${access} = 'true' then 1 else 0 end` : as === 'text' ? sql<string>`${access}` : sql<number>`${access}::float8`;
  }
  const access = sql`json_extract(payload, ${`$.${pathParts.join('.')}`})`;
  // json_extract gives 1/0 for JSON booleans.
  return as === 'bool' ? sql<number>`case when ${access} then 1 else 0 end` : sql<number>`${access}`;
}

/** The identifications of an arm (events aliased e): by model version, or by the pack they carried (events.pack_id and pack_version, kept at ingest: migration 0010); both indexed. */
function inArm(arm: GuardArm) {
  return arm.pack ? sql<boolean>`e.pack_id = ${arm.pack} and e.pack_version = ${arm.version}` : sql<boolean>`e.model_version = ${arm.version}`;
}

/** Identifications of an arm (events aliased e) that arrived in [from, to]. */
const armArrivals = (flavor: SqlFlavor, arm: GuardArm, from: string, to: string) => sql<boolean>`e.type = 'identification' and ${inArm(arm)} and e.received_at >= ${from} and e.received_at <= ${to}`;

/** The guard's evidence (corrections aliased `as`): verdict corrected, grounded (already the identification's install and version), within the daily cap. */
const evidence = (as: string) => sql<boolean>`${sql.ref(`${as}.verdict`)} = 'corrected' and ${sql.ref(`${as}.grounding`)} = 'grounded' and ${sql.ref(`${as}.counted`)} = 1`;

const tallyOf = (m: Map<string, Tally>, id: string) => {
  let t = m.get(id);
  if (!t) m.set(id, (t = emptyTally()));
  return t;
};

/**
 * Per install, from raw events: what an arm's events that arrived in
 * [from, to] (inclusive) add, counting corrections that arrived by `until`.
 * Indexed on arrival, so its cost is the events of that span.
 */
export async function rawArmCounts(db: Db, flavor: SqlFlavor, arm: GuardArm, from: string, to: string, until: string, into = new Map<string, Tally>()): Promise<Map<string, Tally>> {
  const ms = payloadField(flavor, ['timings', 'totalMs'], 'real');
  const ids = await db
    .selectFrom('events as e')
    .select((eb) => [
      'e.install_id',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(payloadField(flavor, ['abstain'], 'bool')).as('abstains'),
      eb.fn.sum<number>(sql`coalesce(${payloadField(flavor, ['errors'], 'real')}, 0)`).as('errors'),
      eb.fn.sum<number>(ms).as('ms_sum'),
      eb.fn.count<number>(ms).as('ms_n'),
    ])
    .where(armArrivals(flavor, arm, from, to))
    .groupBy('e.install_id')
    .execute();
  for (const r of ids) addTally(tallyOf(into, r.install_id), [Number(r.n), Number(r.abstains ?? 0), Number(r.errors ?? 0), Number(r.ms_sum ?? 0), Number(r.ms_n), 0, 0, 0]);
  const corrected = await db
    .selectFrom('corrections as c')
    .innerJoin('events as e', 'e.event_id', 'c.corrects_event_id')
    .select((eb) => ['e.install_id', eb.fn.count<number>('c.corrects_event_id').distinct().as('n')])
    .where(evidence('c'))
    .where('c.received_at', '<=', until)
    .where(armArrivals(flavor, arm, from, to))
    .groupBy('e.install_id')
    .execute();
  for (const r of corrected) tallyOf(into, r.install_id)[5] += Number(r.n);
  // model_status reports name a base model version only.
  if (!arm.pack) {
    const statuses = await db
      .selectFrom('events')
      .select(['install_id', 'payload'])
      .where('type', '=', 'model_status')
      .where('model_version', '=', arm.version)
      .where('received_at', '>=', from)
      .where('received_at', '<=', to)
      .execute();
    for (const r of statuses) {
      const outcome = (JSON.parse(r.payload) as { outcome?: string }).outcome as ModelOutcome;
      addTally(tallyOf(into, r.install_id), [0, 0, 0, 0, 0, 0, 1, FAILING_MODEL_OUTCOMES.has(outcome) ? 1 : 0]);
    }
  }
  return into;
}

/** Per install, the tally of an arm over the whole hours [fromHour, toHour). */
export async function tallyArmCounts(db: Db, arm: GuardArm, fromHour: string, toHour: string, into = new Map<string, Tally>()): Promise<Map<string, Tally>> {
  const rows = await db
    .selectFrom('rollup_guard')
    .select((eb) => ['install_id', ...COLUMNS.map((c) => eb.fn.sum<number>(c).as(c))])
    .where('arm', '=', armKey(arm))
    .where('hour', '>=', fromHour)
    .where('hour', '<', toHour)
    .groupBy('install_id')
    .execute();
  for (const r of rows) addTally(tallyOf(into, r.install_id), COLUMNS.map((c) => Number(r[c] ?? 0)) as Tally);
  return into;
}

/**
 * Identifications of an arm that arrived in [fromHour, toHour) which the
 * tally counts as corrected but whose evidence corrections all arrived after
 * `until`: the window must not count them. Read from the corrections that
 * arrived after `until` (indexed), none at all when `until` is now.
 */
export async function lateCorrected(db: Db, flavor: SqlFlavor, arm: GuardArm, fromHour: string, toHour: string, until: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('corrections as c')
    .innerJoin('events as e', 'e.event_id', 'c.corrects_event_id')
    .select((eb) => ['e.install_id', eb.fn.count<number>('e.event_id').distinct().as('n')])
    .where('c.received_at', '>', until)
    .where(evidence('c'))
    .where('e.type', '=', 'identification')
    .where(inArm(arm))
    .where('e.received_at', '>=', fromHour)
    .where('e.received_at', '<', toHour)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('corrections as k').select('k.event_id').whereRef('k.corrects_event_id', '=', 'e.event_id').where(evidence('k')).where('k.received_at', '<=', until))),
    )
    .groupBy('e.install_id')
    .execute();
  return new Map(rows.map((r) => [r.install_id, Number(r.n)]));
}

const HOUR_MS = 3_600_000;

/**
 * Per install, what an arm's events in the window [since, until] (both
 * inclusive, millisecond edges) add: whole hours from the tally, the
 * partial first and last hours from raw events. Equal to reading every raw
 * event of the window (server/storage/guard-rollups.test.ts).
 */
export async function windowCounts(db: Db, flavor: SqlFlavor, arm: GuardArm, since: string, until: string): Promise<Map<string, Tally>> {
  // Whole hours: [first, end), the hours that lie entirely in the window.
  const first = Math.ceil(Date.parse(since) / HOUR_MS) * HOUR_MS;
  const end = Math.floor((Date.parse(until) + 1) / HOUR_MS) * HOUR_MS;
  if (first >= end) return rawArmCounts(db, flavor, arm, since, until, until);
  const [firstIso, endIso] = [new Date(first).toISOString(), new Date(end).toISOString()];
  const out = await tallyArmCounts(db, arm, firstIso, endIso);
  if (Date.parse(since) < first) await rawArmCounts(db, flavor, arm, since, new Date(first - 1).toISOString(), until, out);
  if (end <= Date.parse(until)) await rawArmCounts(db, flavor, arm, endIso, until, until, out);
  for (const [id, n] of await lateCorrected(db, flavor, arm, firstIso, endIso, until)) tallyOf(out, id)[5] -= n;
  return out;
}

/** The guard's per-install counts (core/install-aggregate.ts) from tallies; installs with neither identifications nor reports are left out. */
export function installCounts(tallies: Map<string, Tally>): Map<string, InstallCounts> {
  const out = new Map<string, InstallCounts>();
  for (const [id, [identifications, abstains, errors, msSum, msN, corrections, statusReports, failures]] of tallies) {
    if (identifications === 0 && statusReports === 0) continue;
    out.set(id, { identifications, corrections, abstains, errors, failures, statusReports, meanLatencyMs: msN > 0 ? msSum / msN : null });
  }
  return out;
}
