/**
 * The queries, written once in kysely and shared by the SQLite and the
 * PostgreSQL backends (sqlite.ts and postgres.ts only open the connection).
 * Both speak the same SQL for everything used here: ON CONFLICT DO NOTHING,
 * RETURNING and row-value comparison for keyset paging.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import { decodeBase64 } from '../../core/base64.ts';
import type { CorrectionEvent, IdentificationEvent, TelemetryEvent } from '../../core/telemetry.ts';
import { decodeEmbedding, encodeEmbedding } from './embedding.ts';
import { migrateToLatest, type Flavor } from './migrations/index.ts';
import { setPredicted } from './migrations/0015_correction_predicted.ts';
import { InstallRepository } from './install-repository.ts';
import { addCorrections, addIdentificationFacts, addPairs, addShadowRuns, correctedLabel, labelOf, UNKNOWN, type PairChange } from './rollups.ts';
import { addPackBatch } from './pack-rollups.ts';
import { identificationFact, type IdentificationFact } from '../../core/telemetry-facts.ts';
import { chunks } from '../../core/chunks.ts';
import { addGuardTallies } from './guard-rollups.ts';
import type { CorrectionRow, Database, EventRow, Grounding, PhotoRow } from './rows.ts';
import {
  DEFAULT_DAILY_CORRECTION_CAP,
  type CorrectionExport,
  type CorrectionRecord,
  type CorrectionStatus,
  type FeedbackStore,
  type InsertOptions,
  type InsertResult,
  type Page,
  type PageCursor,
  type StoredEvent,
} from './types.ts';

/**
 * Rows per INSERT statement: well under SQLite's 32,766 bound parameters
 * and PostgreSQL's 65,535 even for corrections (15 columns), and few enough
 * that one statement's bytes stay small. Photos are big, so fewer.
 */
const ROWS_PER_INSERT = 100;
const PHOTOS_PER_INSERT = 10;

// Ids are compared as stored, so spell them one way whatever the client sent.
const key = (id: string) => id.toLowerCase();

/** insertBatch found the install revoked (or deleted) once it held the install's lock; nothing was stored. */
export class InstallRevokedError extends Error {
  constructor(readonly installId: string) {
    super(`install ${installId} was revoked`);
    this.name = 'InstallRevokedError';
  }
}

function eventRow(e: TelemetryEvent, receivedAt: string): EventRow {
  // Embedding and photo have their own columns and table; keeping them out
  // of payload stores each only once.
  const { embedding: _e, photo: _p, pack, ...rest } = e as CorrectionEvent;
  // A pack's embedding has its own column too; the payload keeps which pack it was.
  const payload = e.type === 'correction' ? { ...rest, ...(pack ? { pack: { id: pack.id, version: pack.version } } : {}), hasPhoto: e.photo !== undefined } : e;
  return {
    event_id: key(e.eventId),
    type: e.type,
    install_id: key(e.installId),
    model_version: e.modelVersion,
    hour: new Date(e.hour).toISOString(),
    received_at: receivedAt,
    payload: JSON.stringify(payload),
    pack_id: e.type === 'identification' ? (e.pack?.id ?? null) : null,
    pack_version: e.type === 'identification' ? (e.pack?.version ?? null) : null,
  };
}

function correctionRow(e: CorrectionEvent, receivedAt: string, grounding: Grounding, counted: boolean, predicted: string | null): CorrectionRow {
  return {
    event_id: key(e.eventId),
    corrects_event_id: key(e.correctsEventId),
    taxon_id: e.taxonId ?? null,
    proposed_name: e.proposedName?.trim() ?? null,
    verdict: e.verdict,
    embedding: encodeEmbedding(e.embedding),
    embedding_dim: e.embedding.length,
    model_version: e.modelVersion,
    install_id: key(e.installId),
    status: 'pending',
    has_photo: e.photo ? 1 : 0,
    cell_lat: e.location?.lat ?? null,
    cell_lon: e.location?.lon ?? null,
    hour: new Date(e.hour).toISOString(),
    received_at: receivedAt,
    grounding,
    counted: counted ? 1 : 0,
    decided_by: null,
    pack_id: e.pack?.id ?? null,
    pack_version: e.pack?.version ?? null,
    pack_embedding: e.pack ? encodeEmbedding(e.pack.embedding) : null,
    pack_embedding_dim: e.pack?.embedding.length ?? null,
    predicted: grounding === 'grounded' ? predicted : null,
  };
}

function photoRow(e: CorrectionEvent, receivedAt: string): PhotoRow {
  const bytes = Buffer.from(decodeBase64(e.photo!.dataBase64)!);
  return {
    event_id: key(e.eventId),
    mime_type: e.photo!.mimeType,
    width: e.photo!.width,
    height: e.photo!.height,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    received_at: receivedAt,
  };
}

const toEvent = (r: Selectable<EventRow>): StoredEvent => ({
  eventId: r.event_id,
  type: r.type,
  installId: r.install_id,
  modelVersion: r.model_version,
  hour: r.hour,
  receivedAt: r.received_at,
  // Stored by insertBatch from an event validateEvent accepted.
  payload: JSON.parse(r.payload) as StoredEvent['payload'],
});

const toCorrection = (r: Omit<Selectable<CorrectionRow>, 'embedding' | 'pack_id' | 'pack_version' | 'pack_embedding' | 'pack_embedding_dim' | 'predicted'>): CorrectionRecord => ({
  eventId: r.event_id,
  correctsEventId: r.corrects_event_id,
  taxonId: r.taxon_id,
  proposedName: r.proposed_name,
  verdict: r.verdict,
  modelVersion: r.model_version,
  installId: r.install_id,
  embeddingDim: r.embedding_dim,
  status: r.status,
  hasPhoto: Number(r.has_photo) === 1,
  cell: r.cell_lat === null || r.cell_lon === null ? null : { lat: r.cell_lat, lon: r.cell_lon },
  hour: r.hour,
  receivedAt: r.received_at,
  grounding: r.grounding,
  counted: Number(r.counted) === 1,
  decidedBy: r.decided_by,
});

const CORRECTION_COLUMNS = [
  'event_id',
  'corrects_event_id',
  'taxon_id',
  'proposed_name',
  'verdict',
  'embedding_dim',
  'model_version',
  'install_id',
  'status',
  'has_photo',
  'cell_lat',
  'cell_lon',
  'hour',
  'received_at',
  'grounding',
  'counted',
  'decided_by',
] as const;

/** The UTC day [start, end) a time falls in, as stored text bounds. */
function dayBounds(iso: string): [string, string] {
  const day = iso.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString();
  return [`${day}T00:00:00.000Z`, next];
}

export class KyselyFeedbackStore implements FeedbackStore {
  readonly installs: InstallRepository;

  constructor(
    readonly db: Kysely<Database>,
    readonly kind: Flavor,
    readonly location: string,
    /** Runs before migrations (PostgreSQL creates its schema there). */
    private readonly prepare: () => Promise<void> = async () => {},
  ) {
    this.installs = new InstallRepository(db);
  }

  async migrate() {
    await this.prepare();
    await migrateToLatest(this.db, this.kind);
  }

  async insertBatch(events: readonly TelemetryEvent[], receivedAt = new Date(), opts: InsertOptions = {}): Promise<InsertResult> {
    const at = receivedAt.toISOString();
    const cap = opts.dailyCorrectionCap ?? DEFAULT_DAILY_CORRECTION_CAP;
    // The first of repeated ids in one batch wins; the rest are duplicates.
    const first = new Map<string, TelemetryEvent>();
    for (const e of events) if (!first.has(key(e.eventId))) first.set(key(e.eventId), e);
    const unique = [...first.values()];
    const storedIds = new Set<string>();

    await this.db.transaction().execute(async (trx) => {
      const corrected = unique.filter((e): e is CorrectionEvent => e.type === 'correction');
      const installIds = [...new Set(unique.map((e) => key(e.installId)))];
      // Batches of one install go one at a time: on PostgreSQL the install rows are locked for the
      // transaction (SQLite runs one write transaction at a time anyway). So the daily cap cannot be
      // overrun by concurrent batches, a correction and its identification in two batches always
      // meet, and a deletion of the install (which revokes it first, under the same lock) is never
      // followed by rows of a batch that was already past its token check.
      if (opts.installId && installIds.length) {
        let q = trx.selectFrom('installs').select(['install_id', 'revoked_at']).where('install_id', 'in', installIds);
        if (this.kind === 'postgres') q = q.forUpdate();
        const rows = await q.execute();
        if (rows.some((r) => r.revoked_at !== null)) throw new InstallRevokedError(key(opts.installId));
      }
      for (const part of chunks(unique, ROWS_PER_INSERT)) {
        // DO NOTHING + RETURNING gives exactly the ids this statement wrote,
        // so an event stored by an earlier (or a concurrent) request counts
        // as a duplicate, never twice.
        const written = await trx
          .insertInto('events')
          .values(part.map((e) => eventRow(e, at)))
          .onConflict((oc) => oc.column('event_id').doNothing())
          .returning('event_id')
          .execute();
        for (const r of written) storedIds.add(r.event_id);
      }
      const corrections = corrected.filter((e) => storedIds.has(key(e.eventId)));

      // Grounded: the cited identification is stored, from the same install and model version.
      const cited = new Map<string, { install_id: string; model_version: string; payload: string }>();
      const citedIds = [...new Set(corrections.map((e) => key(e.correctsEventId)))];
      for (const part of chunks(citedIds, ROWS_PER_INSERT)) {
        const rows = await trx.selectFrom('events').select(['event_id', 'install_id', 'model_version', 'payload']).where('type', '=', 'identification').where('event_id', 'in', part).execute();
        for (const r of rows) cited.set(r.event_id, r);
      }
      const grounding = (e: CorrectionEvent): Grounding => {
        const id = cited.get(key(e.correctsEventId));
        return id && id.install_id === key(e.installId) && id.model_version === e.modelVersion ? 'grounded' : 'waiting';
      };

      // The first `cap` corrections of an install each UTC day (by arrival) count; the rest are kept but weigh nothing.
      const [dayStart, dayEnd] = dayBounds(at);
      const used = new Map<string, number>();
      for (const part of chunks(installIds, ROWS_PER_INSERT)) {
        const rows = await trx
          .selectFrom('corrections')
          .select(['install_id', (eb) => eb.fn.countAll<number>().as('n')])
          .where('install_id', 'in', part)
          .where('counted', '=', 1)
          .where('received_at', '>=', dayStart)
          .where('received_at', '<', dayEnd)
          .groupBy('install_id')
          .execute();
        for (const r of rows) used.set(r.install_id, Number(r.n));
      }
      const counted = (e: CorrectionEvent): boolean => {
        const n = used.get(key(e.installId)) ?? 0;
        used.set(key(e.installId), n + 1);
        return n < cap;
      };

      // What the cited identification answered ('(unknown)' while it is not stored): kept on a grounded correction, and for the most-corrected pairs below.
      const predictedOf = (id: string) => {
        const c = cited.get(id);
        const f = c && identificationFact(id, c.model_version, '', JSON.parse(c.payload) as Record<string, unknown>);
        return f ? labelOf(f) : UNKNOWN;
      };
      const correctionRows = corrections.map((e) => correctionRow(e, at, grounding(e), counted(e), predictedOf(key(e.correctsEventId))));
      for (const part of chunks(correctionRows, ROWS_PER_INSERT)) {
        await trx.insertInto('corrections').values(part).execute();
      }
      for (const part of chunks(
        corrections.filter((e) => e.photo),
        PHOTOS_PER_INSERT,
      )) {
        await trx
          .insertInto('photos')
          .values(part.map((e) => photoRow(e, at)))
          .execute();
      }

      // Corrections that arrived before their identification are grounded now that it is here.
      const newIds = unique.filter((e) => e.type === 'identification' && storedIds.has(key(e.eventId))).map((e) => key(e.eventId));
      const nowEvidence = correctionRows.filter((r) => r.grounding === 'grounded' && r.counted === 1);
      const groundedLater: Array<{ event_id: string; corrects_event_id: string }> = [];
      for (const part of chunks(newIds, ROWS_PER_INSERT)) {
        const grounded = await trx
          .updateTable('corrections')
          .set({ grounding: 'grounded' })
          .where('grounding', '=', 'waiting')
          .where('corrects_event_id', 'in', part)
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('events as e')
                .select('e.event_id')
                .whereRef('e.event_id', '=', 'corrections.corrects_event_id')
                .whereRef('e.install_id', '=', 'corrections.install_id')
                .whereRef('e.model_version', '=', 'corrections.model_version')
                .where('e.type', '=', 'identification'),
            ),
          )
          .returning(['event_id', 'corrects_event_id', 'model_version', 'hour', 'install_id', 'verdict', 'counted'])
          .execute();
        nowEvidence.push(...(grounded.filter((r) => Number(r.counted) === 1) as typeof nowEvidence));
        groundedLater.push(...grounded);
      }

      const stored = unique
        .filter((e) => e.type === 'identification' && storedIds.has(key(e.eventId)))
        .map((e) => identificationFact(key(e.eventId), e.modelVersion, new Date(e.hour).toISOString(), e as unknown as Record<string, unknown>))
        .filter((f): f is IdentificationFact => f !== null);
      // The most-corrected pairs ...
      const pairs: PairChange[] = correctionRows
        .filter((r) => r.verdict === 'corrected')
        .map((r) => ({ model_version: r.model_version, hour: r.hour, predicted: predictedOf(r.corrects_event_id), corrected: correctedLabel(r), by: 1 }));
      // ... and earlier corrections of identifications stored now stop being '(unknown)'.
      const batchFacts = new Map(stored.map((f) => [f.eventId, f]));
      // Corrections grounded just now learn what their identification (stored in this batch) answered.
      await setPredicted(
        trx,
        groundedLater.flatMap((r) => {
          const f = batchFacts.get(r.corrects_event_id);
          return f ? [{ eventId: r.event_id, predicted: labelOf(f) }] : [];
        }),
      );
      const mine = new Set(correctionRows.map((r) => r.event_id));
      for (const part of chunks([...batchFacts.keys()], ROWS_PER_INSERT)) {
        const earlier = await trx
          .selectFrom('corrections')
          .select(['event_id', 'corrects_event_id', 'model_version', 'hour', 'taxon_id', 'proposed_name'])
          .where('verdict', '=', 'corrected')
          .where('corrects_event_id', 'in', part)
          .execute();
        for (const r of earlier) {
          if (mine.has(r.event_id)) continue;
          const base = { model_version: r.model_version, hour: r.hour, corrected: correctedLabel(r) };
          pairs.push({ ...base, predicted: UNKNOWN, by: -1 }, { ...base, predicted: labelOf(batchFacts.get(r.corrects_event_id)!), by: 1 });
        }
      }
      await addPairs(trx, pairs);

      // The rollups monitoring reads (rollups.ts), in the same transaction: they hold exactly what is stored.
      await addIdentificationFacts(trx, stored);
      // Shadow runs per install, what the rollout guard reads (rollout-store.ts shadowInstalls).
      const storedIdentifications = unique.filter((e): e is IdentificationEvent => e.type === 'identification' && storedIds.has(key(e.eventId)));
      await addShadowRuns(
        trx,
        storedIdentifications.map((e) => ({ install_id: key(e.installId), shadow: e.shadow })),
      );
      await addCorrections(trx, nowEvidence);
      // Species-pack runs and the corrections of them (pack-rollups.ts), after the corrections are stored and grounded.
      await addPackBatch(
        trx,
        storedIdentifications.map((e) => ({ event_id: key(e.eventId), install_id: key(e.installId), hour: new Date(e.hour).toISOString(), payload: e })),
        nowEvidence.map((r) => r.event_id),
      );
      // The rollout guard's per-install tally (guard-rollups.ts), after the groundings above.
      await addGuardTallies(
        trx,
        unique
          .filter((e) => storedIds.has(key(e.eventId)))
          .map((e) => ({ event_id: key(e.eventId), type: e.type, install_id: key(e.installId), model_version: e.modelVersion, received_at: at, payload: e })),
        correctionRows,
      );
      if (storedIds.size) {
        await trx
          .insertInto('quality_counts')
          .values({ day: at.slice(0, 10), kind: 'stored', count: storedIds.size })
          .onConflict((oc) => oc.columns(['day', 'kind']).doUpdateSet((eb) => ({ count: eb('quality_counts.count', '+', eb.ref('excluded.count')) })))
          .execute();
      }
    });

    const result: InsertResult = { stored: [], duplicates: [] };
    for (const e of events) {
      const isNew = first.get(key(e.eventId)) === e && storedIds.has(key(e.eventId));
      (isNew ? result.stored : result.duplicates).push(e);
    }
    return result;
  }

  async expireWaiting(olderThan: Date): Promise<number> {
    const res = await this.db.updateTable('corrections').set({ grounding: 'unverified' }).where('grounding', '=', 'waiting').where('received_at', '<', olderThan.toISOString()).executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async listEvents(q: { type?: StoredEvent['type']; limit: number; after?: PageCursor }): Promise<Page<StoredEvent>> {
    let query = this.db.selectFrom('events').selectAll();
    if (q.type) query = query.where('type', '=', q.type);
    const rows = await query.$call(pageAfter(q.after, q.limit)).execute();
    return page(rows.map(toEvent), q.limit);
  }

  async listCorrections(q: { status?: CorrectionStatus; limit: number; after?: PageCursor }): Promise<Page<CorrectionRecord>> {
    let query = this.db.selectFrom('corrections').select(CORRECTION_COLUMNS);
    if (q.status) query = query.where('status', '=', q.status);
    const rows = await query.$call(pageAfter(q.after, q.limit)).execute();
    return page(rows.map(toCorrection), q.limit);
  }

  async *exportCorrections(pageSize = 200): AsyncIterable<CorrectionExport> {
    let after: PageCursor | undefined;
    for (;;) {
      let query = this.db.selectFrom('corrections').select([...CORRECTION_COLUMNS, 'embedding', 'pack_id', 'pack_version', 'pack_embedding']);
      if (after) {
        const { receivedAt, eventId } = after;
        query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('received_at', 'event_id'), '>', tuple(receivedAt, eventId)));
      }
      const rows = await query.orderBy('received_at').orderBy('event_id').limit(pageSize).execute();
      for (const r of rows)
        yield {
          ...toCorrection(r),
          embedding: decodeEmbedding(r.embedding),
          pack: r.pack_id && r.pack_version && r.pack_embedding ? { id: r.pack_id, version: r.pack_version, embedding: decodeEmbedding(r.pack_embedding) } : null,
        };
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { receivedAt: last.received_at, eventId: last.event_id };
    }
  }

  async getPhoto(eventId: string) {
    const row = await this.db.selectFrom('photos').select(['mime_type', 'bytes', 'sha256']).where('event_id', '=', key(eventId)).executeTakeFirst();
    return row ? { mimeType: row.mime_type, bytes: row.bytes, sha256: row.sha256 } : null;
  }

  async setCorrectionStatus(eventId: string, status: CorrectionStatus, decidedBy: 'reviewer' | 'auto' = 'reviewer') {
    const res = await this.db
      .updateTable('corrections')
      .set({ status, decided_by: status === 'pending' ? null : decidedBy })
      .where('event_id', '=', key(eventId))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async acceptedProposedNames() {
    // Only names a person accepted, on grounded corrections within their install's cap.
    const rows = await this.db
      .selectFrom('corrections')
      .select('proposed_name')
      .distinct()
      .where('status', '=', 'accepted')
      .where('decided_by', '=', 'reviewer')
      .where('proposed_name', 'is not', null)
      .where('grounding', '=', 'grounded')
      .where('counted', '=', 1)
      .orderBy('proposed_name')
      .execute();
    return rows.map((r) => r.proposed_name!);
  }

  async ping() {
    await sql`select 1`.execute(this.db);
  }

  async close() {
    await this.db.destroy();
  }
}

/**
 * Keyset paging over (received_at, event_id), which events and corrections
 * both have: the rows after the cursor in that order, one more than the page
 * so page() can tell whether another follows.
 */
function pageAfter<TB extends 'events' | 'corrections', O>(after: PageCursor | undefined, limit: number) {
  return (query: SelectQueryBuilder<Database, TB, O>) => {
    // A row-value comparison, as refTuple/tuple build it; written out because their types do not resolve over a union of tables.
    const from = after ? query.where(sql<boolean>`(${sql.ref('received_at')}, ${sql.ref('event_id')}) > (${after.receivedAt}, ${after.eventId})`) : query;
    return from
      .orderBy('received_at')
      .orderBy('event_id')
      .limit(limit + 1);
  };
}

function page<T extends { receivedAt: string; eventId: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { receivedAt: last.receivedAt, eventId: last.eventId } : null };
}
