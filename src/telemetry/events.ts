/** Builds the anonymized telemetry events (schemas in core/telemetry.ts) from what happened on the device. */
import { truncateToHour, roundToCell, type CorrectionEvent, type IdentificationEvent, type EventPhoto } from '../../core/telemetry.ts';
import type { HistoryRecord } from '../storage/db.ts';
import { packCorrection } from '../../core/species-pack.ts';

export const APP_VERSION = __APP_VERSION__;

export function identificationEvent(record: HistoryRecord, installId: string): IdentificationEvent {
  const t = record.timings;
  return {
    type: 'identification',
    eventId: record.id,
    installId,
    modelVersion: record.version,
    backend: record.backend,
    timings: { decodeMs: t.decodeMs, preprocessMs: t.preprocessMs, inferenceMs: t.inferenceMs, totalMs: t.totalMs },
    top5: record.top5.map((s) => ({ taxonId: s.taxonId, p: s.probability })),
    otherProbability: record.otherProbability,
    abstain: record.abstain,
    appVersion: APP_VERSION,
    hour: truncateToHour(record.createdAt),
    ...(record.pack
      ? { pack: { id: record.pack.packId, version: record.pack.packVersion, routedBy: record.pack.routedBy, top5: record.pack.top5.map((s) => ({ taxonId: s.taxonId, p: s.probability })) } }
      : {}),
    // An observation's answer is fused from its photos: say from how many.
    ...((record.photos?.length ?? 1) > 1 ? { photoCount: record.photos!.length } : {}),
  };
}

export interface CorrectionInput {
  verdict: 'confirmed' | 'corrected';
  taxonId?: string;
  proposedName?: string;
  /** Only when the user ticked "share this photo": already re-encoded without EXIF, at most 1024 px. */
  photo?: EventPhoto;
  /** Only when the user ticked "share approximate location": the precise fix, rounded here. */
  position?: { lat: number; lon: number };
}

export function correctionEvent(record: HistoryRecord, input: CorrectionInput, installId: string): CorrectionEvent {
  const event: CorrectionEvent = {
    type: 'correction',
    eventId: crypto.randomUUID(),
    installId,
    correctsEventId: record.id,
    verdict: input.verdict,
    modelVersion: record.version,
    embedding: Array.from(record.embedding),
    appVersion: APP_VERSION,
    hour: truncateToHour(Date.now()),
  };
  // A species pack answered this photo: the correction is of that answer too, and the pack's own features retrain its head (the base embedding above stays the base model's).
  const pack = packCorrection(record.pack);
  if (pack) event.pack = pack;
  if (input.taxonId) event.taxonId = input.taxonId;
  else if (input.proposedName) event.proposedName = input.proposedName.trim();
  if (input.photo) event.photo = input.photo;
  // One correction for a whole observation: say how many photos its answer came from.
  const photos = record.photos?.length ?? 1;
  if (photos > 1) event.photoCount = photos;
  // The precise fix never leaves this function: only its 0.2-degree cell does.
  if (input.position) event.location = roundToCell(input.position.lat, input.position.lon);
  return event;
}
