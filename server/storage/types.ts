/**
 * The feedback store: one interface, two backends (SQLite file by default,
 * PostgreSQL when DATABASE_URL is set). Routes only ever see this interface.
 * The records it returns are camelCase API shapes, defined as TypeBox
 * schemas so the admin routes and their tests share them.
 */
import type { TelemetryEvent } from '../../core/telemetry.ts';
import type { CorrectionStatus } from './rows.ts';
import type { CorrectionExport, CorrectionRecord, StoredEvent } from '../../core/api/feedback.ts';
import type { Kysely } from 'kysely';
import type { InstallRepository } from './install-repository.ts';
import type { Database } from './rows.ts';

export type { CorrectionStatus } from './rows.ts';
export { CORRECTION_STATUSES, CorrectionStatusSchema, GROUNDINGS, type Grounding } from './rows.ts';

/** Corrections of one install per UTC day that count for anything (env CORRECTIONS_PER_INSTALL_DAY). */
export const DEFAULT_DAILY_CORRECTION_CAP = 50;

// The records the store returns are the admin API's wire shapes (core/api/feedback.ts).
export { CorrectionExportSchema, CorrectionRecordSchema, StoredEventSchema, type CorrectionExport, type CorrectionRecord, type StoredEvent } from '../../core/api/feedback.ts';

/** Where a page ended; pass it back to get the next page. Opaque to callers. */
export interface PageCursor {
  receivedAt: string;
  eventId: string;
}

export interface Page<T> {
  items: T[];
  next: PageCursor | null;
}

export interface InsertResult {
  /** Events this call stored, in batch order. */
  stored: TelemetryEvent[];
  /** Events whose eventId was already stored (or came earlier in the same batch); nothing was written for them. */
  duplicates: TelemetryEvent[];
}

export interface InsertOptions {
  /** Corrections per install per UTC day that count (default DEFAULT_DAILY_CORRECTION_CAP). */
  dailyCorrectionCap?: number;
  /**
   * The install the batch came from (its token was checked): its row is locked for the transaction
   * and a revoked install stores nothing (InstallRevokedError).
   */
  installId?: string;
}

export interface FeedbackStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives, for logs (a file path, or the database without its password). */
  readonly location: string;
  /** Creates or updates the tables; safe to run on every start and from several processes. */
  migrate(): Promise<void>;
  /**
   * Stores validated events in one transaction: all of them or none.
   * Idempotent by eventId, so a resent batch stores nothing new.
   */
  insertBatch(events: readonly TelemetryEvent[], receivedAt?: Date, opts?: InsertOptions): Promise<InsertResult>;
  /** Corrections still waiting for their identification since before `olderThan` become unverified; returns how many. */
  expireWaiting(olderThan: Date): Promise<number>;
  /** The typed database handle (rows.ts Database: every table); rollout-store and monitoring-store query through it. */
  readonly db: Kysely<Database>;
  /** Install credentials, their evidence, and deleting an install's data. */
  readonly installs: InstallRepository;
  listEvents(q: { type?: StoredEvent['type']; limit: number; after?: PageCursor }): Promise<Page<StoredEvent>>;
  listCorrections(q: { status?: CorrectionStatus; limit: number; after?: PageCursor }): Promise<Page<CorrectionRecord>>;
  /** Every correction with its embedding, in arrival order, read a page at a time so memory stays flat. */
  exportCorrections(pageSize?: number): AsyncIterable<CorrectionExport>;
  getPhoto(eventId: string): Promise<{ mimeType: string; bytes: Uint8Array; sha256: string } | null>;
  /** A decision (a reviewer's unless said otherwise); false when there is no such correction. */
  setCorrectionStatus(eventId: string, status: CorrectionStatus, decidedBy?: 'reviewer' | 'auto'): Promise<boolean>;
  /** Names proposed by users that a reviewer accepted (grounded, within the cap): new taxa the model does not know yet. */
  acceptedProposedNames(): Promise<string[]>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
