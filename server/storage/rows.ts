/**
 * The stored rows, as TypeBox schemas (the tests check real rows against
 * them) and as the table types kysely checks queries with.
 *
 * Choices both backends share, so one set of queries serves both:
 * - times are ISO 8601 UTC text (`2026-11-26T12:00:00.000Z`): they sort as
 *   text, and SQLite has no time type;
 * - payload is the event as JSON text, minus the bulky parts that have their
 *   own columns or table (embedding, photo); PostgreSQL can still query it
 *   with `payload::jsonb`;
 * - the embedding is little-endian float32 bytes (BLOB / BYTEA): the model
 *   computes in float32, so nothing is lost, and it is a quarter of the size
 *   of JSON text (5 KB for 1280 values instead of about 20 KB);
 * - booleans are integers 0/1, which both read back as numbers.
 */
import { Type, type Static } from '@sinclair/typebox';

import { CorrectionStatusSchema, GroundingSchema } from '../../core/api/feedback.ts';
import type { MonitoringTables } from './monitoring-rows.ts';
import type { RolloutTables } from './rollout-rows.ts';
import type { RollupTables } from './rollup-rows.ts';
import type { PackRollupTables } from './pack-rollup-rows.ts';
import type { GuardTables } from './guard-rollups.ts';

// The statuses are wire values too (the admin API sends them): defined in core/api/feedback.ts.
export { CORRECTION_STATUSES, CorrectionStatusSchema, GROUNDINGS, GroundingSchema, type CorrectionStatus, type Grounding } from '../../core/api/feedback.ts';

const IsoTime = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' });

/** Every accepted event, identification or correction: what arrived and when. */
export const EventRowSchema = Type.Object({
  event_id: Type.String(),
  type: Type.Union([Type.Literal('identification'), Type.Literal('correction'), Type.Literal('model_status')]),
  install_id: Type.String(),
  model_version: Type.String(),
  hour: IsoTime,
  received_at: IsoTime,
  payload: Type.String(),
  /** The species pack that answered an identification on the same photo, and its version (migration 0010): the guard's pack arms. */
  pack_id: Type.Union([Type.String(), Type.Null()]),
  pack_version: Type.Union([Type.String(), Type.Null()]),
});

/** The training signal: one row per correction, with its embedding. */
export const CorrectionRowSchema = Type.Object({
  event_id: Type.String(),
  corrects_event_id: Type.String(),
  taxon_id: Type.Union([Type.String(), Type.Null()]),
  proposed_name: Type.Union([Type.String(), Type.Null()]),
  verdict: Type.Union([Type.Literal('confirmed'), Type.Literal('corrected')]),
  embedding: Type.Uint8Array(),
  embedding_dim: Type.Integer({ minimum: 1 }),
  model_version: Type.String(),
  install_id: Type.String(),
  /** Set by a reviewer; new corrections are pending. */
  status: CorrectionStatusSchema,
  has_photo: Type.Union([Type.Literal(0), Type.Literal(1)]),
  cell_lat: Type.Union([Type.Number(), Type.Null()]),
  cell_lon: Type.Union([Type.Number(), Type.Null()]),
  hour: IsoTime,
  received_at: IsoTime,
  /** grounded: cites a stored identification of the same install and version; only those count. */
  grounding: GroundingSchema,
  /** 0 when the install had passed its daily cap of counted corrections: kept, weighs nothing. */
  counted: Type.Union([Type.Literal(0), Type.Literal(1)]),
  /** Who set the status: a reviewer, or the automatic rule (null: pending, or decided before this was recorded). */
  decided_by: Type.Union([Type.Literal('reviewer'), Type.Literal('auto'), Type.Null()]),
  /** A correction of a species pack's answer: the pack, its version and its own embedding (float32 bytes); null otherwise. */
  pack_id: Type.Union([Type.String(), Type.Null()]),
  pack_version: Type.Union([Type.String(), Type.Null()]),
  pack_embedding: Type.Union([Type.Uint8Array(), Type.Null()]),
  pack_embedding_dim: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** What the cited identification answered (top-1 taxon or "(abstain)"), set when the correction is grounded; null before. */
  predicted: Type.Union([Type.String(), Type.Null()]),
});

/** Opt-in photos, kept apart so listing corrections never drags image bytes along. */
export const PhotoRowSchema = Type.Object({
  event_id: Type.String(),
  mime_type: Type.Literal('image/jpeg'),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  bytes: Type.Uint8Array(),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  received_at: IsoTime,
});

/** A credential the server issued: install tokens are only good while their row is here and not revoked. */
export const InstallRowSchema = Type.Object({
  install_id: Type.String(),
  issued_at: IsoTime,
  /** Salted sha256 of the client's address prefix (/24, /48): tells networks apart without keeping addresses. */
  network_hash: Type.String(),
  revoked_at: Type.Union([IsoTime, Type.Null()]),
  revoked_reason: Type.Union([Type.String(), Type.Null()]),
});

/** Generated once per deployment (install-token key, network-hash salt). */
export const SecretRowSchema = Type.Object({ name: Type.String(), value: Type.String(), created_at: IsoTime });

export type EventRow = Static<typeof EventRowSchema>;
export type InstallRow = Static<typeof InstallRowSchema>;
export type SecretRow = Static<typeof SecretRowSchema>;
export type CorrectionRow = Static<typeof CorrectionRowSchema>;
export type PhotoRow = Static<typeof PhotoRowSchema>;

/**
 * The database as kysely sees it: every table, so each module that reads
 * its own tables (rollouts, monitoring, rollups) gets typed access through
 * the one handle instead of casting it.
 */
export interface Database extends RolloutTables, MonitoringTables, RollupTables, PackRollupTables, GuardTables {
  events: EventRow;
  corrections: CorrectionRow;
  photos: PhotoRow;
  installs: InstallRow;
  server_secrets: SecretRow;
}
