/**
 * Model rollouts in the database (tables from migration 0002), as plain
 * functions over the kysely handle the feedback store exposes (`store.db`,
 * typed by rows.ts Database; the rollout tables' rows are in rollout-rows.ts).
 * The registry manifest keeps each version's immutable metadata; the status
 * of each version, the running canary and the change log live here.
 *
 * A version with no status row is 'active' when it is the manifest's active
 * version and no row makes another version active, else 'candidate'.
 * Every change is written with its change-log row in one transaction.
 *
 * Species packs roll out through the same functions (migration 0010): every
 * row carries a `model` key, 'base' for the base model or a pack's id, and a
 * ModelLine says which versions of which model a call is about.
 */
import { capPerNetwork, type NetworkMember } from '../../core/network-cap.ts';
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Manifest } from '../../core/manifest.ts';
import type { InstallCounts } from '../../core/install-aggregate.ts';
import type { ShadowInstallCounts } from '../../core/shadow-gate.ts';
import { installCounts, windowCounts, type GuardArm, type SqlFlavor } from './guard-rollups.ts';
import { DEFAULT_HOLDBACK_PERCENT, canaryShare } from '../../core/rollout.ts';
import type { FeedbackStore } from './types.ts';
import type { Database } from './rows.ts';
import type { ModelChangeRow, ModelStatusRow, RolloutRow } from './rollout-rows.ts';

export type { RolloutTables } from './rollout-rows.ts';
import type { ModelChange, ModelStatus, ModelsView, Rollout, ServedRollout } from '../../core/api/models.ts';
import { BASE_MODEL_KEY } from './migrations/0010_pack_rollouts.ts';

// The wire shapes (GET /v1/models, the admin replies) live in core/api/models.ts.
export { MODEL_STATUSES, type ModelChange, type ModelStatus, type ModelsView, type Rollout, type RolloutState, type ServedVersion } from '../../core/api/models.ts';
export type Actor = 'admin' | 'guard';

type Db = Kysely<Database>;
type Tx = Transaction<Database>;

/** A change that cannot be made as asked (409) or names nothing (404). */
export class RolloutError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'RolloutError';
  }
}

/** The store's kysely handle: its schema (rows.ts Database) types the rollout tables too, so no cast. */
export function rolloutDb(store: FeedbackStore): Db {
  return store.db;
}

const toRollout = (r: RolloutRow): Rollout => ({
  id: r.id,
  version: r.version,
  controlVersion: r.control_version,
  percent: Number(r.percent),
  holdback: Number(r.holdback ?? 0),
  state: r.state,
  plan: JSON.parse(r.plan) as Rollout['plan'],
  startedAt: r.started_at,
  steppedAt: r.stepped_at,
  endedAt: r.ended_at,
  ...(r.model === BASE_MODEL_KEY ? {} : { pack: r.model }),
});

/**
 * Whose versions a call is about: the base model's, or one species pack's.
 * Without a status row a version takes the registry's word: `manifestActive`
 * is active while no row makes another version active; `manifestRetired`
 * ones (a pack entry the registry marked retired) stay retired; the rest are
 * candidates.
 */
export interface ModelLine {
  /** 'base', or the pack's id: the rows' model key. */
  model: string;
  /** How errors name a version of it. */
  what: string;
  versions: readonly string[];
  manifestActive: string | undefined;
  manifestRetired: ReadonlySet<string>;
}

export function baseLine(manifest: Manifest): ModelLine {
  return { model: BASE_MODEL_KEY, what: 'model version', versions: manifest.versions.map((v) => v.version), manifestActive: manifest.active, manifestRetired: new Set() };
}

/** The versions of species pack `id` in the registry; 404 when it has none. */
export function packLine(manifest: Manifest, id: string): ModelLine {
  const entries = (manifest.packs ?? []).filter((p) => p.id === id);
  if (!entries.length) throw new RolloutError(404, `species pack ${id} is not in the registry`);
  return {
    model: id,
    what: `species pack ${id} version`,
    versions: entries.map((p) => p.version),
    manifestActive: entries.find((p) => p.status === 'active')?.version,
    manifestRetired: new Set(entries.filter((p) => p.status === 'retired').map((p) => p.version)),
  };
}

/** The running canary of `model` (the base model unless a pack id is given). */
export async function currentRollout(db: Db | Tx, model = BASE_MODEL_KEY): Promise<Rollout | null> {
  const row = await db.selectFrom('rollouts').selectAll().where('model', '=', model).where('state', '=', 'running').orderBy('started_at', 'desc').executeTakeFirst();
  return row ? toRollout(row) : null;
}

/** Every running canary of a species pack. */
export async function runningPackRollouts(db: Db | Tx): Promise<Rollout[]> {
  const rows = await db.selectFrom('rollouts').selectAll().where('model', '!=', BASE_MODEL_KEY).where('state', '=', 'running').orderBy('started_at').execute();
  return rows.map(toRollout);
}

export async function statusRows(db: Db | Tx, model = BASE_MODEL_KEY): Promise<Map<string, ModelStatusRow>> {
  const rows = await db.selectFrom('model_status').selectAll().where('model', '=', model).execute();
  return new Map(rows.map((r) => [r.version, r]));
}

/** Each version's status, from its row or the default rule (a manifest stands for the base model's line). */
export function statuses(line: ModelLine | Manifest, rows: Map<string, ModelStatusRow>): Map<string, ModelStatus> {
  const l = 'model' in line ? line : baseLine(line);
  const dbActive = l.versions.some((v) => rows.get(v)?.status === 'active');
  const out = new Map<string, ModelStatus>();
  for (const v of l.versions) {
    const row = rows.get(v);
    out.set(v, row ? row.status : !dbActive && v === l.manifestActive ? 'active' : l.manifestRetired.has(v) ? 'retired' : 'candidate');
  }
  return out;
}

export function activeVersion(manifest: Manifest, status: Map<string, ModelStatus>): string {
  return lineActive(baseLine(manifest), status) ?? manifest.active;
}

/** The version of the line everyone not in a canary runs; a pack may have none yet. */
function lineActive(line: ModelLine, status: Map<string, ModelStatus>): string | undefined {
  return line.versions.find((v) => status.get(v) === 'active') ?? line.manifestActive;
}

const servedRollout = (rollout: Rollout | null, versions: readonly string[]): ServedRollout | null =>
  rollout && versions.includes(rollout.version)
    ? {
        id: rollout.id,
        version: rollout.version,
        controlVersion: rollout.controlVersion,
        percent: canaryShare(rollout.percent, rollout.holdback),
        step: rollout.percent,
        holdback: rollout.holdback,
        state: rollout.state,
        startedAt: rollout.startedAt,
        steppedAt: rollout.steppedAt,
      }
    : null;

/** Every pack version not retired, with its status, and each pack's running canary (GET /v1/models). */
async function packsView(db: Db, manifest: Manifest): Promise<Pick<ModelsView, 'packs' | 'packRollouts'>> {
  const entries = manifest.packs ?? [];
  const packs: NonNullable<ModelsView['packs']> = [];
  const packRollouts: NonNullable<ModelsView['packRollouts']> = {};
  for (const id of [...new Set(entries.map((p) => p.id))]) {
    const line = packLine(manifest, id);
    const status = statuses(line, await statusRows(db, id));
    for (const p of entries.filter((e) => e.id === id)) {
      const s = status.get(p.version)!;
      if (s !== 'retired') packs.push({ ...p, status: s });
    }
    packRollouts[id] = servedRollout(await currentRollout(db, id), line.versions);
  }
  return { packs, packRollouts };
}

export async function modelsView(db: Db, manifest: Manifest): Promise<ModelsView> {
  const rows = await statusRows(db);
  const status = statuses(manifest, rows);
  const versions = manifest.versions.map((v) => v.version);
  const shadowRow = [...rows.values()].find((r) => r.shadow_rate !== null && Number(r.shadow_rate) > 0 && status.get(r.version) !== 'active');
  return {
    schemaVersion: 1,
    active: activeVersion(manifest, status),
    versions: manifest.versions.map((v) => ({ ...v, status: status.get(v.version)! })),
    rollout: servedRollout(await currentRollout(db), versions),
    shadow: shadowRow && versions.includes(shadowRow.version) ? { version: shadowRow.version, sampleRate: Number(shadowRow.shadow_rate) } : null,
    // Species packs with their statuses; retired versions are not offered to devices.
    ...(await packsView(db, manifest)),
  };
}

async function setStatus(tx: Tx, model: string, version: string, status: ModelStatus, at: string, shadowRate?: number | null) {
  const values: ModelStatusRow = { model, version, status, shadow_rate: shadowRate ?? null, updated_at: at };
  await tx
    .insertInto('model_status')
    .values(values)
    .onConflict((oc) => oc.columns(['model', 'version']).doUpdateSet(shadowRate === undefined ? { status, updated_at: at } : { status, shadow_rate: shadowRate, updated_at: at }))
    .execute();
}

export interface ChangeInput {
  /** 'base' (the default) or a pack id. */
  model?: string;
  action: string;
  version?: string | null;
  rolloutId?: string | null;
  percent?: number | null;
  actor: Actor;
  reason: string;
  details?: unknown;
}

export async function recordChange(tx: Db | Tx, c: ChangeInput, at = new Date().toISOString()): Promise<ModelChange> {
  const row: ModelChangeRow = {
    id: randomUUID(),
    model: c.model ?? BASE_MODEL_KEY,
    at,
    action: c.action,
    version: c.version ?? null,
    rollout_id: c.rolloutId ?? null,
    percent: c.percent ?? null,
    actor: c.actor,
    reason: c.reason,
    details: c.details === undefined ? null : JSON.stringify(c.details),
  };
  await tx.insertInto('model_changes').values(row).execute();
  return toChange(row);
}

const toChange = (r: ModelChangeRow): ModelChange => ({
  id: r.id,
  at: r.at,
  action: r.action,
  version: r.version,
  rolloutId: r.rollout_id,
  percent: r.percent === null ? null : Number(r.percent),
  actor: r.actor,
  reason: r.reason,
  details: r.details === null ? null : JSON.parse(r.details),
  ...(r.model === BASE_MODEL_KEY ? {} : { pack: r.model }),
});

/** Newest first; the base model's changes unless a pack id is given. */
export async function listChanges(db: Db, limit = 100, version?: string, model = BASE_MODEL_KEY): Promise<ModelChange[]> {
  let q = db.selectFrom('model_changes').selectAll().where('model', '=', model);
  if (version) q = q.where('version', '=', version);
  const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toChange);
}

const lineOf = (line: ModelLine | Manifest): ModelLine => ('model' in line ? line : baseLine(line));

function need(line: ModelLine, version: string): void {
  if (!line.versions.includes(version)) throw new RolloutError(404, `${line.what} ${version} is not in the registry`);
}

/** Which running canary a step, promotion or rollback is about. */
export interface RolloutTarget {
  /** 'base' (the default) or a pack id. */
  model?: string;
  reason: string;
  actor: Actor;
  /** Act only if this rollout is still the running one (the guard's check). */
  expectId?: string;
}

async function runningOf(tx: Tx, o: RolloutTarget): Promise<Rollout> {
  const r = await currentRollout(tx, o.model);
  if (!r || (o.expectId && r.id !== o.expectId)) throw new RolloutError(409, 'no canary is running');
  return r;
}

const modelOf = (r: Rollout) => r.pack ?? BASE_MODEL_KEY;

const validPercent = (p: number) => {
  if (!(p > 0 && p <= 100)) throw new RolloutError(400, `a canary percentage must be above 0 and at most 100, got ${p}`);
};

/** Starts a canary of `o.version` against the line's active version (a manifest stands for the base model). */
export async function startCanary(
  db: Db,
  lineOrManifest: ModelLine | Manifest,
  o: { version: string; percent: number; plan?: number[]; holdback?: number; reason: string; actor: Actor; details?: Record<string, unknown> },
): Promise<Rollout> {
  const line = lineOf(lineOrManifest);
  need(line, o.version);
  validPercent(o.percent);
  const holdback = o.holdback ?? DEFAULT_HOLDBACK_PERCENT;
  if (!(holdback >= 0 && holdback < 100)) throw new RolloutError(400, `holdback must be at least 0 and under 100, got ${holdback}`);
  return db.transaction().execute(async (tx) => {
    const running = await currentRollout(tx, line.model);
    if (running) throw new RolloutError(409, `a canary of ${running.version} is already running (rollout ${running.id}); promote or roll it back first`);
    const status = statuses(line, await statusRows(tx, line.model));
    const control = lineActive(line, status);
    if (!control) throw new RolloutError(409, `no ${line.what} is active, so a canary has no control to compare with; activate one first`);
    if (o.version === control) throw new RolloutError(409, `${o.version} is already the active version`);
    const at = new Date().toISOString();
    const plan = [...new Set([...(o.plan ?? [5, 25, 50, 100]), 100])].filter((p) => p > 0 && p <= 100).sort((a, b) => a - b);
    const row: RolloutRow = {
      id: randomUUID(),
      model: line.model,
      version: o.version,
      control_version: control,
      percent: o.percent,
      state: 'running',
      plan: JSON.stringify(plan),
      started_at: at,
      stepped_at: at,
      ended_at: null,
      holdback,
    };
    await tx.insertInto('rollouts').values(row).execute();
    await setStatus(tx, line.model, o.version, 'canary', at);
    // The control keeps its status, but write it down so a later manifest edit cannot change it under the rollout.
    await setStatus(tx, line.model, control, 'active', at);
    await recordChange(
      tx,
      {
        model: line.model,
        action: 'canary-start',
        version: o.version,
        rolloutId: row.id,
        percent: o.percent,
        actor: o.actor,
        reason: o.reason,
        details: { controlVersion: control, plan, holdback, ...o.details },
      },
      at,
    );
    return toRollout(row);
  });
}

export async function stepRollout(db: Db, o: RolloutTarget & { percent?: number }): Promise<Rollout> {
  return db.transaction().execute(async (tx) => {
    const r = await runningOf(tx, o);
    const to = o.percent ?? r.plan.find((p) => p > r.percent);
    if (to === undefined) throw new RolloutError(409, `the canary is at ${r.percent}%, the end of its plan; promote it`);
    validPercent(to);
    if (to <= r.percent) throw new RolloutError(409, `the canary is already at ${r.percent}%; a step must raise it (roll back to lower it)`);
    const at = new Date().toISOString();
    const res = await tx.updateTable('rollouts').set({ percent: to, stepped_at: at }).where('id', '=', r.id).where('state', '=', 'running').executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new RolloutError(409, 'the canary changed meanwhile; try again');
    await recordChange(tx, { model: modelOf(r), action: 'canary-step', version: r.version, rolloutId: r.id, percent: to, actor: o.actor, reason: o.reason, details: { from: r.percent } }, at);
    return { ...r, percent: to, steppedAt: at };
  });
}

export async function promote(db: Db, o: RolloutTarget): Promise<Rollout> {
  return db.transaction().execute(async (tx) => {
    const r = await runningOf(tx, o);
    const at = new Date().toISOString();
    await tx.updateTable('rollouts').set({ state: 'promoted', percent: 100, ended_at: at }).where('id', '=', r.id).where('state', '=', 'running').execute();
    await setStatus(tx, modelOf(r), r.version, 'active', at);
    await setStatus(tx, modelOf(r), r.controlVersion, 'retired', at);
    await recordChange(tx, { model: modelOf(r), action: 'promote', version: r.version, rolloutId: r.id, percent: 100, actor: o.actor, reason: o.reason, details: { retired: r.controlVersion } }, at);
    return { ...r, state: 'promoted', percent: 100, endedAt: at };
  });
}

export async function rollBack(db: Db, o: RolloutTarget & { details?: unknown }): Promise<Rollout> {
  return db.transaction().execute(async (tx) => {
    const r = await runningOf(tx, o);
    const at = new Date().toISOString();
    await tx.updateTable('rollouts').set({ state: 'rolled_back', ended_at: at }).where('id', '=', r.id).where('state', '=', 'running').execute();
    await setStatus(tx, modelOf(r), r.version, 'retired', at);
    await recordChange(
      tx,
      {
        model: modelOf(r),
        action: 'rollback',
        version: r.version,
        rolloutId: r.id,
        percent: r.percent,
        actor: o.actor,
        reason: o.reason,
        details: o.details ?? { controlVersion: r.controlVersion },
      },
      at,
    );
    return { ...r, state: 'rolled_back', endedAt: at };
  });
}

/** Makes a version active at once for everyone (the old active is retired); not while a canary of its model runs. */
export async function activate(db: Db, lineOrManifest: ModelLine | Manifest, o: { version: string; reason: string; actor: Actor }): Promise<void> {
  const line = lineOf(lineOrManifest);
  need(line, o.version);
  await db.transaction().execute(async (tx) => {
    const running = await currentRollout(tx, line.model);
    if (running) throw new RolloutError(409, `a canary of ${running.version} is running; roll it back or promote it first`);
    const status = statuses(line, await statusRows(tx, line.model));
    const old = lineActive(line, status);
    if (old === o.version) throw new RolloutError(409, `${o.version} is already active`);
    const at = new Date().toISOString();
    if (old !== undefined) await setStatus(tx, line.model, old, 'retired', at);
    await setStatus(tx, line.model, o.version, 'active', at, null);
    await recordChange(tx, { model: line.model, action: 'activate', version: o.version, actor: o.actor, reason: o.reason, details: { retired: old ?? null } }, at);
  });
}

/** Devices run `version` in the shadow of sampleRate of their identifications (0 stops it). One shadow at a time. */
export async function setShadow(db: Db, manifest: Manifest, o: { version: string; sampleRate: number; reason: string; actor: Actor }): Promise<void> {
  need(baseLine(manifest), o.version);
  if (!(o.sampleRate >= 0 && o.sampleRate <= 1)) throw new RolloutError(400, `sampleRate must be within 0..1, got ${o.sampleRate}`);
  await db.transaction().execute(async (tx) => {
    const status = statuses(manifest, await statusRows(tx));
    if (o.sampleRate > 0 && status.get(o.version) === 'active') throw new RolloutError(409, `${o.version} is the active version; shadow a candidate`);
    const at = new Date().toISOString();
    await tx.updateTable('model_status').set({ shadow_rate: null }).where('model', '=', BASE_MODEL_KEY).where('version', '!=', o.version).execute();
    await setStatus(tx, BASE_MODEL_KEY, o.version, status.get(o.version)!, at, o.sampleRate > 0 ? o.sampleRate : null);
    await recordChange(tx, { action: o.sampleRate > 0 ? 'shadow-start' : 'shadow-stop', version: o.version, actor: o.actor, reason: o.reason, details: { sampleRate: o.sampleRate } }, at);
  });
}

/** PostgreSQL or SQLite: the two spell JSON field access differently; everything else is shared. */
export type { GuardArm, SqlFlavor } from './guard-rollups.ts';

export function storeFlavor(store: FeedbackStore): SqlFlavor {
  return store.kind;
}

/**
 * Sources, not credentials: which of these installs may speak to the guard
 * (core/network-cap.ts). Revoked installs, and installs whose credential is
 * newer than `issuedBefore` (made for the purpose, they could steer a
 * rollout), have no say; per network only a few count, failing at most once.
 * Events stored without a credential row (written by tools straight into the
 * store) stand for themselves.
 */
async function countedSources(db: Db, installs: ReadonlyArray<{ installId: string; failing: boolean }>, issuedBefore?: string) {
  const members: NetworkMember[] = [];
  const rows = new Map<string, { network_hash: string; issued_at: string; revoked_at: string | null }>();
  for (let i = 0; i < installs.length; i += 500) {
    const part = installs.slice(i, i + 500).map((x) => x.installId);
    for (const r of await db.selectFrom('installs').select(['install_id', 'network_hash', 'issued_at', 'revoked_at']).where('install_id', 'in', part).execute()) rows.set(r.install_id, r);
  }
  for (const x of installs) {
    const r = rows.get(x.installId);
    if (!r) members.push({ installId: x.installId, network: `install:${x.installId}`, issuedAt: '', failing: x.failing });
    else if (r.revoked_at === null && !(issuedBefore && r.issued_at > issuedBefore)) members.push({ installId: x.installId, network: r.network_hash, issuedAt: r.issued_at, failing: x.failing });
  }
  return capPerNetwork(members);
}

/**
 * Shadow results of `version`, per install: the identifications that
 * carried a shadow run of it (core/shadow-gate.ts judges them), from
 * rollup_shadow (kept at ingest, rollups.ts addShadowRuns): one indexed
 * read of that version's rows, however many events are stored.
 */
export async function shadowInstalls(db: Db, _flavor: SqlFlavor, version: string): Promise<ShadowInstallCounts[]> {
  const rows = await db.selectFrom('rollup_shadow').select(['install_id', 'runs', 'failures', 'disagreements', 'top5_overlap']).where('shadow_version', '=', version).orderBy('install_id').execute();
  // Shadow results can hold a canary back, so they count by source as the guard's do.
  const { keep } = await countedSources(
    db,
    rows.map((r) => ({ installId: r.install_id, failing: false })),
  );
  return rows.filter((r) => keep.has(r.install_id)).map((r) => ({ runs: Number(r.runs), failures: Number(r.failures), disagreements: Number(r.disagreements), top5Overlap: Number(r.top5_overlap) }));
}

export interface ArmWindow {
  /** Inclusive start: when the step began. */
  since: string;
  /** Inclusive end, the same for both arms and every count. */
  until: string;
}

/**
 * What each install reported about an arm (a base model version, or a
 * species pack's version) in the window: the guard's input, aggregated per
 * install by core/install-aggregate.ts. Every count (identifications,
 * corrections of those identifications, model_status reports) uses the same
 * window, with no cap on any of them, so the two arms and their numerators
 * and denominators cover the same time. A correction counts when it comes
 * from the install that made the identification and arrived by the window's
 * end. Whole hours come from the guard's tally, the partial first and last
 * hours from raw events (guard-rollups.ts windowCounts): the cost is two
 * hours of the arm's events and the tally's rows, not the step's events.
 */
export async function armInstalls(db: Db, flavor: SqlFlavor, arm: GuardArm, w: ArmWindow): Promise<Map<string, InstallCounts>> {
  return keepSources(db, installCounts(await windowCounts(db, flavor, arm, w.since, w.until)), w.since);
}

/**
 * Per-install guard counts with only the installs that may speak to the
 * guard (countedSources): none whose credential is newer than the step
 * (`since`), none revoked; per network a few, failing at most once.
 */
export async function keepSources(db: Db, out: Map<string, InstallCounts>, since: string): Promise<Map<string, InstallCounts>> {
  // An install whose credential was issued after this step began has no say in it.
  const { keep, failing } = await countedSources(
    db,
    [...out.entries()].map(([id, c]) => ({ installId: id, failing: c.failures > 0 })),
    since,
  );
  for (const id of [...out.keys()]) {
    if (!keep.has(id)) out.delete(id);
    else if (!failing.has(id)) out.get(id)!.failures = 0;
  }
  return out;
}

/**
 * Takes (or renews) a job's lease with one conditional update: it succeeds
 * for exactly one caller while the lease is free, expired, or already its own.
 */
/** Makes the lease row of a job exist (free); safe to call from every instance at start. */
export async function ensureLease(db: Db, name: string): Promise<void> {
  await db
    .insertInto('job_leases')
    .values({ name, owner: null, expires_at: '1970-01-01T00:00:00.000Z' })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function tryLease(db: Db, name: string, owner: string, ttlMs: number, now = new Date()): Promise<boolean> {
  const at = now.toISOString();
  const res = await db
    .updateTable('job_leases')
    .set({ owner, expires_at: new Date(now.getTime() + ttlMs).toISOString() })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('expires_at', '<', at), eb('owner', '=', owner)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseLease(db: Db, name: string, owner: string): Promise<void> {
  await db.updateTable('job_leases').set({ owner: null, expires_at: '1970-01-01T00:00:00.000Z' }).where('name', '=', name).where('owner', '=', owner).execute();
}
