/**
 * Monitoring queries over the feedback store's database (`store.db`, typed
 * by rows.ts). Metrics, drift, the corrected pairs and the quality report
 * read the rollups (rollup-reads.ts; kept by rollups.ts at ingest) and
 * compute with core/metrics.ts, drift-series.ts and quality.ts; the review
 * queue pages corrections in SQL. loadIdentifications and
 * computeDriftFromEvents read every raw event: the simulator and the
 * property tests use them as the full recomputation. Plain kysely that
 * SQLite and PostgreSQL both run; tables from migrations 0003 and 0007.
 */
import { sql, type Kysely } from 'kysely';
import { bucketMetrics, versionSummary } from '../../core/metrics.ts';
import { defaultReference, driftOfDays, driftSeries, type DayWindow, type DriftOptions, type DriftResult } from '../../core/drift-series.ts';
import { bucketTallies, dayProfilesFromRollups, firstDays, type HourRange } from './rollup-reads.ts';
import { PAIR_DIM } from './rollups.ts';
import { qualityReport } from '../../core/quality.ts';
import { correctionLabel, identificationFact, type Bucket, type CorrectionFact, type DriftPoint, type IdentificationFact } from '../../core/telemetry-facts.ts';
import { agreementKey, autoAcceptable, DEFAULT_AUTO_ACCEPT_RULES, voteRefusal, type AutoAcceptRules, type InstallTrust } from '../../core/review.ts';
import { InstallRepository } from './install-repository.ts';
import type { Database } from './rows.ts';
import type { FeedbackStore, Page, PageCursor } from './types.ts';
import type { ReviewItem } from '../../core/api/review.ts';

import type { DriftAlertRow } from './monitoring-rows.ts';
export type { DriftAlertRow, DriftReferenceRow, QualityCountRow } from './monitoring-rows.ts';
/** The store's one schema: it types the monitoring tables too (monitoring-rows.ts). */
export type MonitoringDatabase = Database;
export type MonitoringDb = Kysely<Database>;

/** The kysely handle behind a store, typed (no cast). */
export function monitoringDb(store: FeedbackStore): MonitoringDb {
  return store.db;
}

export type { HourRange } from './rollup-reads.ts';

const IN_CHUNK = 500;

/** An identification event row to its fact (null when its payload is not one). */
const identificationRowFact = (row: { event_id: string; model_version: string; hour: string; payload: string }) =>
  identificationFact(row.event_id, row.model_version, row.hour, JSON.parse(row.payload) as Record<string, unknown>);

export async function loadIdentifications(db: MonitoringDb, r: HourRange = {}): Promise<IdentificationFact[]> {
  let q = db.selectFrom('events').select(['event_id', 'model_version', 'hour', 'payload']).where('type', '=', 'identification');
  if (r.from) q = q.where('hour', '>=', r.from);
  if (r.to) q = q.where('hour', '<', r.to);
  if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
  const rows = await q.execute();
  const out: IdentificationFact[] = [];
  for (const row of rows) {
    const f = identificationRowFact(row);
    if (f) out.push(f);
  }
  return out;
}

const FACT_COLUMNS = ['event_id', 'corrects_event_id', 'install_id', 'model_version', 'hour', 'verdict', 'taxon_id', 'proposed_name', 'status', 'received_at', 'grounding', 'counted'] as const;
type FactRow = { [K in (typeof FACT_COLUMNS)[number]]: MonitoringDatabase['corrections'][K] };
const toFact = (c: FactRow): CorrectionFact => ({
  eventId: c.event_id,
  correctsEventId: c.corrects_event_id,
  installId: c.install_id,
  modelVersion: c.model_version,
  hour: c.hour,
  verdict: c.verdict,
  taxonId: c.taxon_id,
  proposedName: c.proposed_name,
  status: c.status,
  receivedAt: c.received_at,
  grounding: c.grounding,
  counted: Number(c.counted) === 1,
});

export async function loadCorrections(db: MonitoringDb, r: HourRange & { status?: CorrectionFact['status']; verdict?: CorrectionFact['verdict'] } = {}): Promise<CorrectionFact[]> {
  let q = db.selectFrom('corrections').select(FACT_COLUMNS);
  if (r.from) q = q.where('hour', '>=', r.from);
  if (r.to) q = q.where('hour', '<', r.to);
  if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
  if (r.status) q = q.where('status', '=', r.status);
  if (r.verdict) q = q.where('verdict', '=', r.verdict);
  const rows = await q.orderBy('received_at').orderBy('event_id').execute();
  return rows.map(toFact);
}

/** The identification events behind some corrections, by id (what the model answered). */
export async function identificationsById(db: MonitoringDb, ids: Iterable<string>): Promise<Map<string, IdentificationFact>> {
  const list = [...new Set(ids)];
  const out = new Map<string, IdentificationFact>();
  for (let i = 0; i < list.length; i += IN_CHUNK) {
    const rows = await db
      .selectFrom('events')
      .select(['event_id', 'model_version', 'hour', 'payload'])
      .where('type', '=', 'identification')
      .where('event_id', 'in', list.slice(i, i + IN_CHUNK))
      .execute();
    for (const row of rows) {
      const f = identificationRowFact(row);
      if (f) out.set(f.eventId, f);
    }
  }
  return out;
}

/**
 * Metrics per version and bucket, the most-corrected pairs, and a per-version
 * summary for the side-by-side. The metrics come from the rollups only
 * (rollup-reads.ts); the pairs from the corrections of the range (evidence
 * and the rest, few next to identifications) and what their identifications answered.
 */
export async function metricsReport(db: MonitoringDb, r: HourRange & { bucket?: Bucket }) {
  const bucket = r.bucket ?? 'day';
  const [tallies, days, pairs] = await Promise.all([bucketTallies(db, { ...r, bucket }), bucket === 'day' ? null : bucketTallies(db, { ...r, bucket: 'day' }), correctedPairCounts(db, r)]);
  const series = tallies.map((t) => bucketMetrics(t));
  // One row per version over the whole range: the side-by-side, from the days.
  const versions = versionSummary(days ?? tallies);
  return { bucket, series, versions, correctedPairs: pairs };
}

/**
 * Predicted -> corrected taxon over the range's corrections, most frequent
 * first (core/metrics.ts correctedPairs' rule), from the rollups: insertBatch
 * counts each correction under what its identification answered, and moves
 * it from '(unknown)' when that identification arrives later.
 */
export async function correctedPairCounts(db: MonitoringDb, r: HourRange, limit = 15) {
  const wholeDays = (!r.from || r.from.endsWith('T00:00:00.000Z')) && (!r.to || r.to.endsWith('T00:00:00.000Z'));
  const rows = wholeDays
    ? await (() => {
        let q = db
          .selectFrom('rollup_day_counts')
          .select(['model_version', 'key', (eb) => eb.fn.sum<number>('n').as('n')])
          .where('dim', '=', PAIR_DIM);
        if (r.from) q = q.where('day', '>=', r.from.slice(0, 10));
        if (r.to) q = q.where('day', '<', r.to.slice(0, 10));
        if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
        return q.groupBy(['model_version', 'key']).execute();
      })()
    : await (() => {
        let q = db
          .selectFrom('rollup_counts')
          .select(['model_version', 'key', (eb) => eb.fn.sum<number>('n').as('n')])
          .where('dim', '=', PAIR_DIM);
        if (r.from) q = q.where('hour', '>=', r.from);
        if (r.to) q = q.where('hour', '<', r.to);
        if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
        return q.groupBy(['model_version', 'key']).execute();
      })();
  return rows
    .filter((row) => Number(row.n) > 0)
    .map((row) => {
      const [predicted, corrected] = JSON.parse(row.key) as [string, string];
      return { modelVersion: row.model_version, predicted, corrected, count: Number(row.n) };
    })
    .sort((a, b) => b.count - a.count || a.predicted.localeCompare(b.predicted) || a.corrected.localeCompare(b.corrected) || a.modelVersion.localeCompare(b.modelVersion))
    .slice(0, limit);
}

// ---------------------------------------------------------------- drift

export async function getReferences(db: MonitoringDb): Promise<Map<string, DayWindow>> {
  const rows = await db.selectFrom('drift_references').selectAll().execute();
  return new Map(rows.map((r) => [r.model_version, { from: r.from_day, to: r.to_day }]));
}

/** Chooses the reference window of a version (null: back to the default, its first days). */
export async function setReference(db: MonitoringDb, modelVersion: string, window: DayWindow | null, now = new Date()) {
  if (!window) {
    await db.deleteFrom('drift_references').where('model_version', '=', modelVersion).execute();
    return;
  }
  await db
    .insertInto('drift_references')
    .values({ model_version: modelVersion, from_day: window.from, to_day: window.to, updated_at: now.toISOString() })
    .onConflict((oc) => oc.column('model_version').doUpdateSet({ from_day: window.from, to_day: window.to, updated_at: now.toISOString() }))
    .execute();
}

export interface DriftRunOptions extends Omit<DriftOptions, 'reference'> {
  /** Only score days from here (YYYY-MM-DD); the reference is read whatever its dates. */
  fromDay?: string;
}

/** Each version's reference window: the stored choice, else the days from its first day (YYYY-MM-DD). */
function referenceWindows(chosen: Map<string, DayWindow>, firstDay: Map<string, string>, opts: DriftRunOptions): Map<string, DayWindow> {
  const windows = new Map<string, DayWindow>();
  for (const [version, first] of firstDay) windows.set(version, chosen.get(version) ?? defaultReference(first, opts.referenceDays ?? 7));
  return windows;
}

/** Drift over the days, each version against its window; only the days from opts.fromDay are kept. */
function scoredDrift(score: (o: DriftOptions) => DriftResult, windows: Map<string, DayWindow>, opts: DriftRunOptions): DriftResult {
  const result = score({ ...opts, reference: (v) => windows.get(v) });
  if (opts.fromDay) result.points = result.points.filter((p) => p.day >= opts.fromDay!);
  return result;
}

/** PSI/JS per version and day against each version's reference window (stored choice, else its first days), from the rollups. */
export async function computeDrift(db: MonitoringDb, opts: DriftRunOptions = {}) {
  const [chosen, firsts] = await Promise.all([getReferences(db), firstDays(db)]);
  const windows = referenceWindows(chosen, firsts, opts);
  // Read the references and the days to score; nothing older than both.
  let since = opts.fromDay;
  for (const w of windows.values()) if (since && w.from < since) since = w.from;
  const days = await dayProfilesFromRollups(db, since ? { from: `${since}T00:00:00.000Z` } : {});
  return scoredDrift((o) => driftOfDays(days, o), windows, opts);
}

/** The same from every raw event (what the rollups replace; the property tests compare the two). */
export async function computeDriftFromEvents(db: MonitoringDb, opts: DriftRunOptions = {}) {
  const chosen = await getReferences(db);
  const ids = await loadIdentifications(db);
  const firsts = new Map<string, string>();
  for (const e of ids) if (!firsts.has(e.modelVersion) || e.hour < firsts.get(e.modelVersion)!) firsts.set(e.modelVersion, e.hour);
  const firstDay = new Map([...firsts].map(([version, hour]) => [version, hour.slice(0, 10)]));
  return scoredDrift((o) => driftSeries(ids, o), referenceWindows(chosen, firstDay, opts), opts);
}

/** Stores the warn and alert levels of scored days (upsert); a day that is ok again loses its row. */
export async function storeAlerts(db: MonitoringDb, points: readonly DriftPoint[], references: Record<string, DayWindow>, now = new Date()) {
  const at = now.toISOString();
  const ok: Array<{ model_version: string; day: string; metric: 'prediction' | 'confidence' }> = [];
  const rows: DriftAlertRow[] = [];
  for (const p of points) {
    const ref = references[p.modelVersion];
    for (const metric of ['prediction', 'confidence'] as const) {
      const s = p[metric];
      if (s.level === 'ok') ok.push({ model_version: p.modelVersion, day: p.day, metric });
      else
        rows.push({ model_version: p.modelVersion, day: p.day, metric, psi: s.psi, js: s.js, level: s.level, n: p.n, reference_from: ref.from, reference_to: ref.to, created_at: at, updated_at: at });
    }
  }
  // A few statements a tick, not two per scored day: one delete and one upsert per hundred rows.
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < ok.length; i += 100) {
      const part = ok.slice(i, i + 100);
      await trx
        .deleteFrom('drift_alerts')
        .where((eb) => eb.or(part.map((k) => eb.and([eb('model_version', '=', k.model_version), eb('day', '=', k.day), eb('metric', '=', k.metric)]))))
        .execute();
    }
    for (let i = 0; i < rows.length; i += 100) {
      await trx
        .insertInto('drift_alerts')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) =>
          oc.columns(['model_version', 'day', 'metric']).doUpdateSet((eb) => ({
            psi: eb.ref('excluded.psi'),
            js: eb.ref('excluded.js'),
            level: eb.ref('excluded.level'),
            n: eb.ref('excluded.n'),
            reference_from: eb.ref('excluded.reference_from'),
            reference_to: eb.ref('excluded.reference_to'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  });
}

export async function listAlerts(db: MonitoringDb, q: { level?: 'warn' | 'alert'; modelVersion?: string; limit?: number } = {}) {
  let query = db.selectFrom('drift_alerts').selectAll();
  if (q.level) query = query.where('level', '=', q.level);
  if (q.modelVersion) query = query.where('model_version', '=', q.modelVersion);
  const rows = await query
    .orderBy('day', 'desc')
    .orderBy('model_version')
    .orderBy('metric')
    .limit(q.limit ?? 500)
    .execute();
  return rows.map((r) => ({
    modelVersion: r.model_version,
    day: r.day,
    metric: r.metric,
    psi: Number(r.psi),
    js: Number(r.js),
    level: r.level,
    n: Number(r.n),
    reference: { from: r.reference_from, to: r.reference_to },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

// ---------------------------------------------------------------- data quality

/** Adds to the per-day counters (kind "duplicate" or "rejected:<reason>"). */
export async function recordQuality(db: MonitoringDb, day: string, counts: Record<string, number>) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (!entries.length) return;
  await db
    .insertInto('quality_counts')
    .values(entries.map(([kind, count]) => ({ day, kind, count })))
    .onConflict((oc) => oc.columns(['day', 'kind']).doUpdateSet({ count: sql`quality_counts.count + excluded.count` }))
    .execute();
}

export async function qualityDays(db: MonitoringDb, r: { fromDay?: string; toDay?: string } = {}) {
  let counts = db.selectFrom('quality_counts').selectAll();
  if (r.fromDay) counts = counts.where('day', '>=', r.fromDay);
  if (r.toDay) counts = counts.where('day', '<=', r.toDay);
  const range = { from: r.fromDay ? `${r.fromDay}T00:00:00.000Z` : undefined, to: r.toDay ? `${r.toDay}T99` : undefined };
  // Only identifications corrected more than once can have conflicting labels: those groups, not every correction.
  let multi = db
    .selectFrom('corrections')
    .select('corrects_event_id')
    .groupBy('corrects_event_id')
    .having((eb) => eb.fn.countAll(), '>', 1);
  let proposed = db
    .selectFrom('corrections')
    .select([sql<string>`substr(hour, 1, 10)`.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('proposed_name', 'is not', null)
    .groupBy(sql`substr(hour, 1, 10)`);
  if (range.from) {
    multi = multi.where('hour', '>=', range.from);
    proposed = proposed.where('hour', '>=', range.from);
  }
  if (range.to) {
    multi = multi.where('hour', '<', range.to);
    proposed = proposed.where('hour', '<', range.to);
  }
  // Events stored per day of arrival are counted at ingest (kind 'stored'): raw events may be gone (retention).
  const [countRows, targets, proposedRows] = await Promise.all([counts.execute(), multi.execute(), proposed.execute()]);
  const groups: CorrectionFact[] = [];
  const ids = targets.map((t) => t.corrects_event_id);
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    let q = db
      .selectFrom('corrections')
      .select(FACT_COLUMNS)
      .where('corrects_event_id', 'in', ids.slice(i, i + IN_CHUNK));
    if (range.from) q = q.where('hour', '>=', range.from);
    if (range.to) q = q.where('hour', '<', range.to);
    groups.push(...(await q.execute()).map(toFact));
  }
  return qualityReport(
    countRows.filter((c) => c.kind !== 'stored').map((c) => ({ day: c.day, kind: c.kind, count: Number(c.count) })),
    countRows.filter((c) => c.kind === 'stored').map((c) => ({ day: c.day, count: Number(c.count) })),
    groups,
    proposedRows.map((p) => ({ day: p.day, count: Number(p.n) })),
  );
}

// ---------------------------------------------------------------- review

const predictedLabel = (e: IdentificationFact | undefined) => (e ? (e.abstain ? '(abstain)' : e.top1) : undefined);

async function trustOf(db: MonitoringDb, installIds: Iterable<string>): Promise<Map<string, InstallTrust>> {
  return new InstallRepository(db).evidence(installIds);
}

/** Applies the independent-installs rule (core/review.ts autoAcceptable); returns the event ids it accepted. */
export async function autoAccept(db: MonitoringDb, rules: AutoAcceptRules = DEFAULT_AUTO_ACCEPT_RULES): Promise<string[]> {
  // Only pending corrections that could ever vote: known taxa, grounded, within the cap.
  const pending = await db
    .selectFrom('corrections')
    .select([...FACT_COLUMNS, 'predicted'])
    .where('status', '=', 'pending')
    .where('verdict', '=', 'corrected')
    .where('taxon_id', 'is not', null)
    .where('grounding', '=', 'grounded')
    .where('counted', '=', 1)
    .execute();
  if (!pending.length) return [];
  // And the accepted ones that can agree with them: the same taxa.
  const taxa = [...new Set(pending.map((c) => c.taxon_id!))];
  const others: Array<FactRow & { predicted: string | null }> = [];
  for (let i = 0; i < taxa.length; i += IN_CHUNK) {
    others.push(
      ...(await db
        .selectFrom('corrections')
        .select([...FACT_COLUMNS, 'predicted'])
        .where('status', '=', 'accepted')
        .where('verdict', '=', 'corrected')
        .where('grounding', '=', 'grounded')
        .where('counted', '=', 1)
        .where('taxon_id', 'in', taxa.slice(i, i + IN_CHUNK))
        .execute()),
    );
  }
  const facts = [...pending, ...others].map(toFact);
  // Every one is grounded, so each keeps what its identification answered (migration 0015).
  const predicted = new Map([...pending, ...others].map((c) => [c.corrects_event_id, c.predicted ?? undefined]));
  const trust = await trustOf(
    db,
    facts.map((c) => c.installId),
  );
  const ids = autoAcceptable(
    facts,
    (id) => predicted.get(id),
    (id) => trust.get(id),
    rules,
  );
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    // Only still-pending rows: a reviewer's decision made meanwhile stands.
    await db
      .updateTable('corrections')
      .set({ status: 'accepted', decided_by: 'auto' })
      .where('event_id', 'in', ids.slice(i, i + IN_CHUNK))
      .where('status', '=', 'pending')
      .execute();
  }
  return ids;
}

// The review queue's items are the wire shape the admin app reads (core/api/review.ts).
export type { ReviewItem } from '../../core/api/review.ts';

/** The review queue: corrections with a status (pending by default), oldest first, with context for the reviewer. */
export async function reviewQueue(db: MonitoringDb, q: { status?: CorrectionFact['status']; limit?: number; after?: PageCursor } = {}): Promise<Page<ReviewItem>> {
  // One page in SQL, and only the rows that page needs around it: the queue's cost follows the page, not the history.
  const limit = q.limit ?? 200;
  let page = db
    .selectFrom('corrections')
    .select([...FACT_COLUMNS, 'has_photo'])
    .where('status', '=', q.status ?? 'pending');
  if (q.after) {
    const { receivedAt, eventId } = q.after;
    page = page.where(({ eb, refTuple, tuple }) => eb(refTuple('received_at', 'event_id'), '>', tuple(receivedAt, eventId)));
  }
  const rows = await page
    .orderBy('received_at')
    .orderBy('event_id')
    .limit(limit + 1)
    .execute();
  const wanted = rows.slice(0, limit);
  const facts = wanted.map(toFact);
  // Installs behind each (predicted -> taxon) pair of the page's taxa, counted in SQL from what each grounded
  // correction keeps of its identification (migration 0015), so the cost follows the page's taxa, not the evidence.
  const taxa = [...new Set(facts.map((c) => c.taxonId).filter((t): t is string => t !== null))];
  const evidence = () => db.selectFrom('corrections').where('status', '!=', 'rejected').where('verdict', '=', 'corrected').where('grounding', '=', 'grounded').where('counted', '=', 1);
  const agreeing = new Map<string, number>();
  for (let i = 0; i < taxa.length; i += IN_CHUNK) {
    const rows = await evidence()
      .select(['predicted', 'taxon_id', (eb) => eb.fn.count<number>('install_id').distinct().as('n')])
      .where('taxon_id', 'in', taxa.slice(i, i + IN_CHUNK))
      .groupBy(['predicted', 'taxon_id'])
      .execute();
    for (const r of rows)
      agreeing.set(
        agreementKey({ taxonId: r.taxon_id, proposedName: null, correctsEventId: '' }, () => r.predicted ?? undefined),
        Number(r.n),
      );
  }
  // Proposed names are few (they need a reviewer): their agreement is by name alone, counted here.
  if (facts.some((c) => c.proposedName !== null)) {
    const byName = new Map<string, Set<string>>();
    for (const c of (await evidence().select(FACT_COLUMNS).where('proposed_name', 'is not', null).execute()).map(toFact)) {
      const k = agreementKey(c, () => undefined);
      byName.set(k, (byName.get(k) ?? new Set<string>()).add(c.installId));
    }
    for (const [k, set] of byName) agreeing.set(k, set.size);
  }
  // Every label given for the identifications on the page, for the conflicts count.
  const targets = [...new Set(facts.map((c) => c.correctsEventId))];
  const siblings: CorrectionFact[] = [];
  for (let i = 0; i < targets.length; i += IN_CHUNK) {
    siblings.push(
      ...(
        await db
          .selectFrom('corrections')
          .select(FACT_COLUMNS)
          .where('corrects_event_id', 'in', targets.slice(i, i + IN_CHUNK))
          .execute()
      ).map(toFact),
    );
  }
  const ids = await identificationsById(
    db,
    facts.map((c) => c.correctsEventId),
  );
  const trust = await trustOf(
    db,
    facts.map((c) => c.installId),
  );
  const predictedOf = (id: string) => predictedLabel(ids.get(id));
  const labelsByTarget = new Map<string, Set<string>>();
  for (const c of siblings) {
    const t = labelsByTarget.get(c.correctsEventId) ?? new Set<string>();
    t.add(correctionLabel(c));
    labelsByTarget.set(c.correctsEventId, t);
  }
  const items = facts.map((c, k) => {
    const e = ids.get(c.correctsEventId);
    const agreement = agreementKey(c, predictedOf);
    return {
      ...c,
      label: correctionLabel(c),
      predicted: predictedLabel(e) ?? null,
      confidence: e ? e.confidence : null,
      agreement,
      installs: agreeing.get(agreement) ?? 0,
      conflicts: (labelsByTarget.get(c.correctsEventId)?.size ?? 1) - 1,
      hasPhoto: Number(wanted[k].has_photo) === 1,
      voteRefusal: voteRefusal(c, trust.get(c.installId)),
    };
  });
  const last = wanted[wanted.length - 1];
  return { items, next: rows.length > limit && last ? { receivedAt: last.received_at, eventId: last.event_id } : null };
}
