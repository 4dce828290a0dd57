/**
 * Telemetry facts: identification and correction events reduced to what
 * monitoring, drift, review and quality read, and the labels they share
 * (the abstain category, a correction's label, a proposed name's id).
 */
import type { BucketMetrics, DriftPoint, DriftScore, LatencyStats, QualityDay } from './api/monitoring.ts';

// What monitoring computes is what the admin API sends: the shapes are the wire schemas' (core/api/monitoring.ts).
export type { BucketMetrics, DriftPoint, DriftScore, LatencyStats, QualityDay };

export type Bucket = 'day' | 'hour';
/** The prediction-distribution category of an identification that answered "not one of our species". */
export const ABSTAIN = '(abstain)';
/** Bins of the top-1 confidence histogram over [0, 1]. */
export const CONFIDENCE_BINS = 10;

/** The confidence bin of a top-1 probability, as core/drift.ts histogram() bins [0, 1] (clamped into the end bins); null when not a number. */
export function confidenceBin(p: number): number | null {
  if (!Number.isFinite(p)) return null;
  return Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(p * CONFIDENCE_BINS)));
}

/** One identification event, reduced to what monitoring reads. */
export interface IdentificationFact {
  eventId: string;
  installId: string;
  modelVersion: string;
  /** ISO hour, as stored. */
  hour: string;
  backend: string;
  /** Top-1 taxon id. */
  top1: string;
  /** Top-1 probability. */
  confidence: number;
  abstain: boolean;
  totalMs: number;
}

/** One correction, reduced to what monitoring reads. */
export interface CorrectionFact {
  eventId: string;
  correctsEventId: string;
  installId: string;
  modelVersion: string;
  hour: string;
  verdict: 'confirmed' | 'corrected';
  taxonId: string | null;
  proposedName: string | null;
  status: 'pending' | 'accepted' | 'rejected';
  /** When the server stored it (its own clock, unlike hour). */
  receivedAt: string;
  /** grounded: cites a stored identification of the same install and model version. */
  grounding: 'grounded' | 'waiting' | 'unverified';
  /** false: past its install's daily cap; kept, weighs nothing. */
  counted: boolean;
}

/** An identification payload (as stored in events.payload) to a fact; null when it is not one. */
export function identificationFact(eventId: string, modelVersion: string, hour: string, payload: Record<string, unknown>): IdentificationFact | null {
  const top5 = payload.top5 as Array<{ taxonId: string; p: number }> | undefined;
  if (!Array.isArray(top5) || !top5.length) return null;
  const timings = payload.timings as { totalMs?: number } | undefined;
  return {
    eventId,
    // Strings by the event schema (core/telemetry.ts) the server validated on ingest.
    installId: typeof payload.installId === 'string' ? payload.installId.toLowerCase() : '',
    modelVersion,
    hour,
    backend: typeof payload.backend === 'string' ? payload.backend : 'unknown',
    top1: top5[0].taxonId,
    confidence: Number(top5[0].p),
    abstain: payload.abstain === true,
    totalMs: Number(timings?.totalMs ?? Number.NaN),
  };
}

export const bucketOf = (hour: string, bucket: Bucket): string => (bucket === 'day' ? hour.slice(0, 10) : `${hour.slice(0, 13)}:00`);

/**
 * The taxon id of a name a user proposed ("Eurasian Beaver" ->
 * "proposed-eurasian-beaver"): stable, never clashes with a launch id, and
 * the one normalization the server, review and training all use. Accents
 * dropped, lower case, runs of anything else one dash: "Eurasian beaver",
 * "eurasian  BEAVER" and "Eurasian-Beaver" are one name.
 */
export function normalizeProposedName(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `proposed-${slug || 'unnamed'}`;
}

/** What a correction says the photo shows: its taxon id, or the normalized proposed name. */
export const correctionLabel = (c: Pick<CorrectionFact, 'taxonId' | 'proposedName'>): string => c.taxonId ?? normalizeProposedName(c.proposedName ?? '');
