/**
 * An observation: 1 to 5 photos of the same animal with one fused answer
 * (core/fusion.ts, fused in the worker by the version that answered them).
 * The record keeps its id when photos are added, so history, the
 * correction and the telemetry event all stay one per observation.
 */
import { MAX_OBSERVATION_PHOTOS } from '../../core/fusion.ts';
import type { Prediction } from '../../core/postprocess.ts';
import { photosOf, type HistoryRecord, type ObservationPhoto } from '../storage/db.ts';
import type { ClassifyResult } from '../../workers/inference/types.ts';

export { MAX_OBSERVATION_PHOTOS };

export function photoFrom(result: ClassifyResult, name: string, id: string = crypto.randomUUID()): ObservationPhoto {
  const { thumbnail, ...rest } = result;
  return { ...rest, id, name, thumbnail: thumbnail ?? null };
}

/** A new observation from its first photo: its answer is that photo's. */
export function startObservation(result: ClassifyResult, name: string, id: string = crypto.randomUUID()): HistoryRecord {
  const photo = photoFrom(result, name);
  return { ...result, id, createdAt: Date.now(), name, thumbnail: photo.thumbnail, photos: [photo] };
}

/** The observation with one more photo and the fused answer of all of them; the first photo still names it. */
export function withPhoto(record: HistoryRecord, photo: ObservationPhoto, fused: Prediction): HistoryRecord {
  const photos = [...photosOf(record), photo];
  if (photos.length > MAX_OBSERVATION_PHOTOS) throw new RangeError(`an observation holds at most ${MAX_OBSERVATION_PHOTOS} photos`);
  if (photos.some((p) => p.version !== photo.version)) throw new RangeError('every photo of an observation must be answered by the same model version');
  return {
    ...record,
    top5: fused.top5,
    otherProbability: fused.otherProbability,
    abstain: fused.abstain,
    abstainReason: fused.abstainReason,
    rollup: fused.rollup,
    summary: fused.summary,
    photos,
  };
}

/** Room for another photo, no correction made yet, and every photo's logits kept (records from before observations have none). */
export const canAddPhoto = (record: HistoryRecord) => {
  const photos = photosOf(record);
  return photos.length < MAX_OBSERVATION_PHOTOS && !record.correction && photos.every((p) => p.logits);
};
