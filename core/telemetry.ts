/**
 * What the app sends to the feedback server: anonymized identification
 * events and user corrections, batched. Shared by the client (which builds
 * and queues them) and the server (which validates and stores them), so both
 * read the same schema.
 *
 * Privacy is decided here, not by trust in the client: times are truncated
 * to the hour, locations must already sit on a 0.2-degree grid, photos are
 * opt-in and may not carry Exif (core/photo-share.ts reads the bytes), and every object is closed
 * (additionalProperties: false) so nothing outside this schema is stored.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { checkSharedPhoto, type SharedPhotoReason } from './photo-share.ts';
import { SemverSchema } from './api/common.ts';

/** Most events in one POST; the outbox sends bigger queues in several batches. */
export const MAX_BATCH_EVENTS = 500;
/** Size of a location cell in degrees (about 22 km of latitude). */
export const LOCATION_CELL_DEG = 0.2;
/** How far from the grid a coordinate may be (float noise from rounding on the client). */
export const GRID_TOLERANCE = 1e-6;
/** Largest side of an opt-in photo, in pixels. */
export const MAX_PHOTO_SIDE = 1024;
/** A 1024 x 1024 JPEG is well under 1.5 MB; base64 adds a third. */
export const MAX_PHOTO_BASE64_CHARS = 2_000_000;
/** Longest accepted embedding, whatever the model (the manifest gives the exact size). */
export const MAX_EMBEDDING_LENGTH = 4096;
/** Ten minutes: any stage slower than this is a broken clock, not a slow phone. */
export const MAX_TIMING_MS = 600_000;

// Version 4 only: ids are random, so they say nothing about the device or the time.
export const UUID_V4_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';
export const HOUR_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:00:00(\\.000)?Z$';

const Uuid = Type.String({ pattern: UUID_V4_PATTERN });
const Hour = Type.String({ pattern: HOUR_PATTERN, description: 'ISO time truncated to the hour, UTC' });
const Ms = Type.Number({ minimum: 0, maximum: MAX_TIMING_MS });
const Probability = Type.Number({ minimum: 0, maximum: 1 });
const TaxonId = Type.String({ minLength: 1, maxLength: 120 });
const AppVersion = Type.String({ minLength: 1, maxLength: 64 });
/** A species pack's id (core/manifest.ts SpeciesPackSchema), in identifications and corrections alike. */
const PackId = Type.String({ pattern: '^[a-z0-9-]+$', maxLength: 60 });
const closed = { additionalProperties: false } as const;

export const BackendSchema = Type.Union([Type.Literal('webgpu'), Type.Literal('wasm'), Type.Literal('node')]);

export const TimingsSchema = Type.Object({ decodeMs: Ms, preprocessMs: Ms, inferenceMs: Ms, totalMs: Ms }, closed);

/**
 * A candidate model run in the shadow of this identification, on the same
 * preprocessed tensor, never shown to the user: did it agree, how fast was it.
 */
export const ShadowResultSchema = Type.Object(
  {
    modelVersion: SemverSchema,
    /** Same top-1 label as the model that answered. */
    top1Agree: Type.Boolean(),
    /** How many of the answering model's top 5 are also in the shadow's top 5 (0..5). */
    top5Overlap: Type.Integer({ minimum: 0, maximum: 5 }),
    inferenceMs: Ms,
    /** The shadow run failed (then agreement fields are false/0). */
    failed: Type.Boolean(),
  },
  closed,
);

export const IdentificationEventSchema = Type.Object(
  {
    type: Type.Literal('identification'),
    /** Random per event; the idempotency key, so a resent batch stores nothing twice. */
    eventId: Uuid,
    /** Random per install and resettable by the user; never derived from the device. */
    installId: Uuid,
    modelVersion: SemverSchema,
    backend: BackendSchema,
    timings: TimingsSchema,
    top5: Type.Array(Type.Object({ taxonId: TaxonId, p: Probability }, closed), { minItems: 1, maxItems: 5 }),
    otherProbability: Probability,
    abstain: Type.Boolean(),
    appVersion: AppVersion,
    hour: Hour,
    /** Optional (added with model rollouts): a shadow candidate's result on the same photo. */
    shadow: Type.Optional(ShadowResultSchema),
    /** Optional: identifications with this model version that failed on the device since the last report. */
    errors: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    /** Optional (added with species packs): the pack that named the species on the same photo, its version and answer. */
    pack: Type.Optional(
      Type.Object(
        {
          id: PackId,
          version: SemverSchema,
          routedBy: Type.Union([Type.Literal('rollup'), Type.Literal('user')]),
          top5: Type.Array(Type.Object({ taxonId: TaxonId, p: Probability }, closed), { minItems: 1, maxItems: 5 }),
        },
        closed,
      ),
    ),
    /** Optional (added with observations): how many photos the fused answer above came from; absent means 1. */
    photoCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  },
  closed,
);

export const PhotoSchema = Type.Object(
  {
    mimeType: Type.Literal('image/jpeg'),
    dataBase64: Type.String({ minLength: 4, maxLength: MAX_PHOTO_BASE64_CHARS }),
    width: Type.Integer({ minimum: 1, maximum: MAX_PHOTO_SIDE }),
    height: Type.Integer({ minimum: 1, maximum: MAX_PHOTO_SIDE }),
  },
  closed,
);

export const LocationSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
  },
  closed,
);

export const CorrectionEventSchema = Type.Object(
  {
    type: Type.Literal('correction'),
    eventId: Uuid,
    installId: Uuid,
    /** The identification event this correction is about. */
    correctsEventId: Uuid,
    verdict: Type.Union([Type.Literal('confirmed'), Type.Literal('corrected')]),
    /** A taxon the server knows (GET /v1/taxa). Exactly one of taxonId and proposedName. */
    taxonId: Type.Optional(TaxonId),
    /** A species the model does not know yet, in the user's words; only with verdict "corrected". */
    proposedName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    modelVersion: SemverSchema,
    /** The model's embedding of the photo; its length is the model version's embeddingSize. */
    embedding: Type.Array(Type.Number(), { minItems: 1, maxItems: MAX_EMBEDDING_LENGTH }),
    appVersion: AppVersion,
    hour: Hour,
    photo: Type.Optional(PhotoSchema),
    location: Type.Optional(LocationSchema),
    /**
     * Optional (added with observations): how many photos of the same animal
     * the corrected answer was fused from (absent: one). The embedding is the
     * observation's first photo's.
     */
    photoCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    /**
     * Optional (added with species packs): the correction is of the answer a
     * species pack gave on this photo. The pack's own embedding (its length is
     * the pack's embeddingSize) is what retrains that pack's head; the base
     * model's embedding above still retrains the base model's.
     */
    pack: Type.Optional(
      Type.Object(
        {
          id: PackId,
          version: SemverSchema,
          embedding: Type.Array(Type.Number(), { minItems: 1, maxItems: MAX_EMBEDDING_LENGTH }),
        },
        closed,
      ),
    ),
  },
  closed,
);

/** What became of a model version on a device (model_status events). */
export const MODEL_OUTCOMES = ['loaded', 'refused-incompatible', 'refused-integrity', 'failed-to-start', 'run-failures'] as const;
export type ModelOutcome = (typeof MODEL_OUTCOMES)[number];
/** Outcomes that count against a version in the rollout guard. */
export const FAILING_MODEL_OUTCOMES: ReadonlySet<ModelOutcome> = new Set(['refused-incompatible', 'refused-integrity', 'failed-to-start', 'run-failures']);

/**
 * Device health: sent as soon as a version loads, is refused, will not
 * start, or fails on identifications, so the rollout guard hears about a
 * canary that breaks on devices even when it never answers anything.
 * The reason is a short code, never the error's text (which can name files
 * or devices).
 */
export const ModelStatusEventSchema = Type.Object(
  {
    type: Type.Literal('model_status'),
    eventId: Uuid,
    installId: Uuid,
    modelVersion: SemverSchema,
    outcome: Type.Union(MODEL_OUTCOMES.map((o) => Type.Literal(o))),
    /** run-failures: identifications that failed with this version since the last report. */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    reason: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })),
    backend: Type.Optional(BackendSchema),
    appVersion: AppVersion,
    hour: Hour,
  },
  closed,
);

export const TelemetryEventSchema = Type.Union([IdentificationEventSchema, CorrectionEventSchema, ModelStatusEventSchema]);

export type Backend = Static<typeof BackendSchema>;
export type IdentificationEvent = Static<typeof IdentificationEventSchema>;
export type ShadowResult = Static<typeof ShadowResultSchema>;
export type CorrectionEvent = Static<typeof CorrectionEventSchema>;
export type ModelStatusEvent = Static<typeof ModelStatusEventSchema>;
export type TelemetryEvent = Static<typeof TelemetryEventSchema>;
export type EventPhoto = Static<typeof PhotoSchema>;
export type EventLocation = Static<typeof LocationSchema>;

/** `2024-05-01T14:37:12.345Z` -> `2024-05-01T14:00:00.000Z`: when, to the hour, and no finer. */
export function truncateToHour(date: Date | number | string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a valid time: ${String(date)}`);
  d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
}

/** Rounds to a number of decimals that float noise cannot reach (0.2 * 3 = 0.6000000000000001). */
const clean = (x: number) => Number(x.toFixed(9)) + 0; // + 0 turns -0 into 0

/**
 * The centre of the grid cell a point falls in, so the server only ever sees
 * a cell (about 22 x 22 km at 0.2 degrees), never the place itself.
 * Longitude wraps so 179.95 becomes -180 rather than 180.
 */
export function roundToCell(lat: number, lon: number, cellDeg = LOCATION_CELL_DEG): { lat: number; lon: number } {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw new RangeError('latitude and longitude must be finite numbers');
  if (!(cellDeg > 0)) throw new RangeError('cell size must be positive');
  const clampedLat = Math.max(-90, Math.min(90, lat));
  let cellLon = Math.round(lon / cellDeg) * cellDeg;
  cellLon = ((((cellLon + 180) % 360) + 360) % 360) - 180;
  return { lat: clean(Math.round(clampedLat / cellDeg) * cellDeg), lon: clean(cellLon) };
}

/** True when the value is a whole number of cells, within float noise. */
export function onGrid(value: number, cellDeg = LOCATION_CELL_DEG, tolerance = GRID_TOLERANCE): boolean {
  return Math.abs(value - Math.round(value / cellDeg) * cellDeg) <= tolerance;
}

/** What the server knows that the schema alone cannot: taxa and model versions. */
export interface ValidationContext {
  taxonIds: ReadonlySet<string>;
  /** Model version -> its embedding length (outputs.embeddingSize in the manifest). */
  embeddingSizes: ReadonlyMap<string, number>;
  /**
   * Species pack `packKey(id, version)` -> its embedding length (the pack entry's outputs.embeddingSize), for a
   * correction's `pack`. Absent or without that key: the pack is unknown and such a correction is refused.
   */
  packEmbeddingSizes?: ReadonlyMap<string, number>;
}

/** The key of a pack version in ValidationContext.packEmbeddingSizes. */
export const packKey = (id: string, version: string) => `${id}@${version}`;

export type RejectReason =
  | 'not-an-object'
  | 'unknown-type'
  | 'invalid-event'
  | 'invalid-hour'
  | 'unknown-model-version'
  | 'unknown-taxon'
  | 'duplicate-taxon'
  | 'invalid-probabilities'
  | 'embedding-not-finite'
  | 'embedding-length'
  /** A correction's `pack`: not a pack version the registry lists, its embedding not finite, or of the wrong length. */
  | 'unknown-pack'
  | 'pack-embedding-not-finite'
  | 'pack-embedding-length'
  | 'taxon-xor-proposed'
  | 'proposed-needs-corrected'
  | 'corrects-itself'
  /** The photo's bytes (core/photo-share.ts). */
  | SharedPhotoReason
  | 'location-off-grid'
  /** The event names another install than the token it came with (checked by the server, not validateEvent). */
  | 'install-mismatch';

export type ValidationResult = { ok: true } | { ok: false; reason: RejectReason; message: string };

const fail = (reason: RejectReason, message: string): ValidationResult => ({ ok: false, reason, message });

function schemaProblem(schema: TSchema, event: unknown): string | null {
  // Check is several times faster than walking the errors, and most events
  // are fine. (No TypeCompiler: it needs eval, which the app's CSP forbids.)
  if (Value.Check(schema, event)) return null;
  // The first problem only: one clear sentence beats twenty.
  const first = Value.Errors(schema, event).First();
  return first ? `${first.path || '/'}: ${first.message}` : null;
}

/** Probabilities are a softmax over the launch taxa and "other", so top-5 plus other cannot pass 1 (beyond float noise). */
const PROBABILITY_SLACK = 1e-3;

/**
 * Checks one event fully: its schema, then what the schema cannot say
 * (known taxa and model versions, embedding length, photo bytes, grid).
 * Pure and synchronous; the server calls it on each event of a batch so one
 * bad event is reported by index and the others are still stored.
 */
export function validateEvent(event: unknown, ctx: ValidationContext): ValidationResult {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return fail('not-an-object', 'each event must be a JSON object');
  const type = (event as { type?: unknown }).type;
  if (type !== 'identification' && type !== 'correction' && type !== 'model_status') {
    return fail('unknown-type', `event type must be "identification", "correction" or "model_status", got ${JSON.stringify(type) ?? 'nothing'}`);
  }

  // Checked before the schema so a NaN that JSON turned into null (or a
  // string) gets its own reason instead of a generic type error.
  const embedding = (event as { embedding?: unknown }).embedding;
  if (type === 'correction' && Array.isArray(embedding)) {
    const bad = embedding.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0) return fail('embedding-not-finite', `embedding[${bad}] is ${JSON.stringify(embedding[bad]) ?? 'undefined'}; every value must be a finite number`);
    const packEmbedding: unknown = (event as { pack?: { embedding?: unknown } }).pack?.embedding;
    const values: unknown[] = Array.isArray(packEmbedding) ? packEmbedding : [];
    const badPack = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (badPack >= 0) return fail('pack-embedding-not-finite', `pack.embedding[${badPack}] is ${JSON.stringify(values[badPack]) ?? 'undefined'}; every value must be a finite number`);
  }

  const schema = type === 'identification' ? IdentificationEventSchema : type === 'correction' ? CorrectionEventSchema : ModelStatusEventSchema;
  const problem = schemaProblem(schema, event);
  if (problem) return fail('invalid-event', problem);
  const e = event as TelemetryEvent;

  // The pattern lets through impossible times such as month 13.
  if (Number.isNaN(Date.parse(e.hour))) return fail('invalid-hour', `hour "${e.hour}" is not a real time`);
  const embeddingSize = ctx.embeddingSizes.get(e.modelVersion);
  if (embeddingSize === undefined) {
    return fail('unknown-model-version', `model version ${e.modelVersion} is unknown (known: ${[...ctx.embeddingSizes.keys()].join(', ') || 'none'})`);
  }

  if (e.type === 'model_status') {
    // A count belongs to run failures only; elsewhere it would be a number nobody reads.
    if ((e.count !== undefined) !== (e.outcome === 'run-failures')) return fail('invalid-event', 'count is given with outcome "run-failures" and only then');
    return { ok: true };
  }
  return e.type === 'identification' ? checkIdentification(e, ctx) : checkCorrection(e, ctx, embeddingSize);
}

const unknownPack = (p: { id: string; version: string }, ctx: ValidationContext) =>
  fail('unknown-pack', `species pack ${p.id} ${p.version} is unknown (known: ${[...(ctx.packEmbeddingSizes?.keys() ?? [])].join(', ') || 'none'})`);

function checkIdentification(e: IdentificationEvent, ctx: ValidationContext): ValidationResult {
  const seen = new Set<string>();
  for (const [i, s] of e.top5.entries()) {
    if (!ctx.taxonIds.has(s.taxonId)) return fail('unknown-taxon', `top5[${i}].taxonId "${s.taxonId}" is not a known taxon`);
    if (seen.has(s.taxonId)) return fail('duplicate-taxon', `top5[${i}].taxonId "${s.taxonId}" appears twice`);
    seen.add(s.taxonId);
  }
  // A pack the registry does not list would open a series of its own on the dashboards and in drift.
  if (e.pack && !ctx.packEmbeddingSizes?.has(packKey(e.pack.id, e.pack.version))) return unknownPack(e.pack, ctx);
  for (const [i, s] of (e.pack?.top5 ?? []).entries()) {
    if (!ctx.taxonIds.has(s.taxonId)) return fail('unknown-taxon', `pack.top5[${i}].taxonId "${s.taxonId}" is not a known taxon`);
  }
  if (e.shadow && !ctx.embeddingSizes.has(e.shadow.modelVersion)) {
    return fail('unknown-model-version', `shadow.modelVersion ${e.shadow.modelVersion} is unknown (known: ${[...ctx.embeddingSizes.keys()].join(', ') || 'none'})`);
  }
  const total = e.top5.reduce((sum, s) => sum + s.p, e.otherProbability);
  if (total > 1 + PROBABILITY_SLACK) return fail('invalid-probabilities', `top5 probabilities plus otherProbability add up to ${total.toFixed(4)}, more than 1`);
  return { ok: true };
}

function checkCorrection(e: CorrectionEvent, ctx: ValidationContext, embeddingSize: number): ValidationResult {
  if (e.correctsEventId.toLowerCase() === e.eventId.toLowerCase()) return fail('corrects-itself', 'correctsEventId must name the identification event, not the correction itself');
  const hasTaxon = e.taxonId !== undefined;
  const hasProposed = e.proposedName !== undefined;
  if (hasTaxon === hasProposed) return fail('taxon-xor-proposed', 'give exactly one of taxonId (a known taxon) and proposedName (a new one)');
  if (hasTaxon && !ctx.taxonIds.has(e.taxonId!)) return fail('unknown-taxon', `taxonId "${e.taxonId}" is not a known taxon; send proposedName for a species the app does not list`);
  if (hasProposed) {
    if (e.verdict !== 'corrected') return fail('proposed-needs-corrected', 'a proposedName can only come with verdict "corrected"');
    // Names are shown to reviewers; control characters have no place in them.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    if (!e.proposedName!.trim() || /[\u0000-\u001f\u007f]/.test(e.proposedName!)) return fail('invalid-event', 'proposedName must be printable text, not blank');
  }
  if (e.embedding.length !== embeddingSize) {
    return fail('embedding-length', `embedding has ${e.embedding.length} values; model ${e.modelVersion} produces ${embeddingSize}`);
  }
  if (e.pack) {
    const packSize = ctx.packEmbeddingSizes?.get(packKey(e.pack.id, e.pack.version));
    if (packSize === undefined) return unknownPack(e.pack, ctx);
    if (e.pack.embedding.length !== packSize) return fail('pack-embedding-length', `pack.embedding has ${e.pack.embedding.length} values; pack ${e.pack.id} ${e.pack.version} produces ${packSize}`);
  }
  if (e.photo) {
    const photo = checkSharedPhoto(e.photo);
    if (!photo.ok) return photo;
  }
  if (e.location && (!onGrid(e.location.lat) || !onGrid(e.location.lon))) {
    return fail('location-off-grid', `location (${e.location.lat}, ${e.location.lon}) is not on the ${LOCATION_CELL_DEG}-degree grid; round it with roundToCell before sending`);
  }
  return { ok: true };
}
