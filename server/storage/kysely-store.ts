/**
 * The queries, written once in kysely and shared by the SQLite and the
 * PostgreSQL backends (sqlite.ts and postgres.ts only open the connection).
 * Both speak the same SQL for everything used here: ON CONFLICT DO NOTHING,
 * RETURNING and row-value comparison for keyset paging.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { decodeBase64, type CorrectionEvent, type TelemetryEvent } from '../../core/telemetry.ts';
import { decodeEmbedding, encodeEmbedding } from './embedding.ts';
import { migrateToLatest, type Flavor } from './migrations/index.ts';
import type { CorrectionRow, Database, EventRow, PhotoRow } from './rows.ts';
import type { CorrectionExport, CorrectionRecord, CorrectionStatus, FeedbackStore, InsertResult, Page, PageCursor, StoredEvent } from './types.ts';

/**
 * Rows per INSERT statement: well under SQLite's 32,766 bound parameters
 * and PostgreSQL's 65,535 even for corrections (15 columns), and few enough
 * that one statement's bytes stay small. Photos are big, so fewer.
 */
const ROWS_PER_INSERT = 100;
const PHOTOS_PER_INSERT = 10;

// Ids are compared as stored, so spell them one way whatever the client sent.
const key = (id: string) => id.toLowerCase();

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function eventRow(e: TelemetryEvent, receivedAt: string): EventRow {
  // Embedding and photo have their own columns and table; keeping them out
  // of payload stores each only once.
  const { embedding: _e, photo: _p, ...rest } = e as CorrectionEvent;
  const payload = e.type === 'correction' ? { ...rest, hasPhoto: e.photo !== undefined } : e;
  return {
    event_id: key(e.eventId),
    type: e.type,
    install_id: key(e.installId),
    model_version: e.modelVersion,
    hour: new Date(e.hour).toISOString(),
    received_at: receivedAt,
    payload: JSON.stringify(payload),
  };
}

function correctionRow(e: CorrectionEvent, receivedAt: string): CorrectionRow {
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
  payload: JSON.parse(r.payload),
});

const toCorrection = (r: Omit<Selectable<CorrectionRow>, 'embedding'>): CorrectionRecord => ({
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
});

const CORRECTION_COLUMNS = [
  'event_id', 'corrects_event_id', 'taxon_id', 'proposed_name', 'verdict', 'embedding_dim', 'model_version',
  'install_id', 'status', 'has_photo', 'cell_lat', 'cell_lon', 'hour', 'received_at',
] as const;

export class KyselyFeedbackStore implements FeedbackStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly kind: Flavor,
    readonly location: string,
    /** Runs before migrations (PostgreSQL creates its schema there). */
    private readonly prepare: () => Promise<void> = async () => {},
  ) {}

  async migrate() {
    await this.prepare();
    await migrateToLatest(this.db, this.kind);
  }

  async insertBatch(events: readonly TelemetryEvent[], receivedAt = new Date()): Promise<InsertResult> {
    const at = receivedAt.toISOString();
    // The first of repeated ids in one batch wins; the rest are duplicates.
    const first = new Map<string, TelemetryEvent>();
    for (const e of events) if (!first.has(key(e.eventId))) first.set(key(e.eventId), e);
    const unique = [...first.values()];
    const storedIds = new Set<string>();

    await this.db.transaction().execute(async (trx) => {
      for (const part of chunks(unique, ROWS_PER_INSERT)) {
        // DO NOTHING + RETURNING gives exactly the ids this statement wrote,
        // so an event stored by an earlier (or a concurrent) request counts
        // as a duplicate, never twice.
        const written = await trx.insertInto('events').values(part.map((e) => eventRow(e, at)))
          .onConflict((oc) => oc.column('event_id').doNothing())
          .returning('event_id')
          .execute();
        for (const r of written) storedIds.add(r.event_id);
      }
      const corrections = unique.filter((e): e is CorrectionEvent => e.type === 'correction' && storedIds.has(key(e.eventId)));
      for (const part of chunks(corrections, ROWS_PER_INSERT)) {
        await trx.insertInto('corrections').values(part.map((e) => correctionRow(e, at))).execute();
      }
      for (const part of chunks(corrections.filter((e) => e.photo), PHOTOS_PER_INSERT)) {
        await trx.insertInto('photos').values(part.map((e) => photoRow(e, at))).execute();
      }
    });

    const result: InsertResult = { stored: [], duplicates: [] };
    for (const e of events) {
      const isNew = first.get(key(e.eventId)) === e && storedIds.has(key(e.eventId));
      (isNew ? result.stored : result.duplicates).push(e);
    }
    return result;
  }

  async listEvents(q: { type?: StoredEvent['type']; limit: number; after?: PageCursor }): Promise<Page<StoredEvent>> {
    let query = this.db.selectFrom('events').selectAll();
    if (q.type) query = query.where('type', '=', q.type);
    if (q.after) {
      const { receivedAt, eventId } = q.after;
      query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('received_at', 'event_id'), '>', tuple(receivedAt, eventId)));
    }
    const rows = await query.orderBy('received_at').orderBy('event_id').limit(q.limit + 1).execute();
    return page(rows.map(toEvent), q.limit);
  }

  async listCorrections(q: { status?: CorrectionStatus; limit: number; after?: PageCursor }): Promise<Page<CorrectionRecord>> {
    let query = this.db.selectFrom('corrections').select(CORRECTION_COLUMNS);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.after) {
      const { receivedAt, eventId } = q.after;
      query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('received_at', 'event_id'), '>', tuple(receivedAt, eventId)));
    }
    const rows = await query.orderBy('received_at').orderBy('event_id').limit(q.limit + 1).execute();
    return page(rows.map(toCorrection), q.limit);
  }

  async *exportCorrections(pageSize = 200): AsyncIterable<CorrectionExport> {
    let after: PageCursor | undefined;
    for (;;) {
      let query = this.db.selectFrom('corrections').select([...CORRECTION_COLUMNS, 'embedding']);
      if (after) {
        const { receivedAt, eventId } = after;
        query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('received_at', 'event_id'), '>', tuple(receivedAt, eventId)));
      }
      const rows = await query.orderBy('received_at').orderBy('event_id').limit(pageSize).execute();
      for (const r of rows) yield { ...toCorrection(r), embedding: decodeEmbedding(r.embedding) };
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { receivedAt: last.received_at, eventId: last.event_id };
    }
  }

  async getPhoto(eventId: string) {
    const row = await this.db.selectFrom('photos').select(['mime_type', 'bytes', 'sha256']).where('event_id', '=', key(eventId)).executeTakeFirst();
    return row ? { mimeType: row.mime_type, bytes: row.bytes, sha256: row.sha256 } : null;
  }

  async setCorrectionStatus(eventId: string, status: CorrectionStatus) {
    const res = await this.db.updateTable('corrections').set({ status }).where('event_id', '=', key(eventId)).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async acceptedProposedNames() {
    const rows = await this.db.selectFrom('corrections').select('proposed_name').distinct()
      .where('status', '=', 'accepted').where('proposed_name', 'is not', null)
      .orderBy('proposed_name').execute();
    return rows.map((r) => r.proposed_name!);
  }

  async ping() {
    await sql`select 1`.execute(this.db);
  }

  async close() {
    await this.db.destroy();
  }
}

function page<T extends { receivedAt: string; eventId: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { receivedAt: last.receivedAt, eventId: last.eventId } : null };
}
