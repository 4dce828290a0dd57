/**
 * One more photo for an observation already in history (the record page):
 * identified, fused with the others by the worker, and saved under the same
 * id. The identify page does the same with its own progress and reports.
 */
import { checkFileSize, checkPhoto } from '../../core/photo-check.ts';
import { inference } from '../inference/client.ts';
import { isFailure } from '../../workers/inference/types.ts';
import { saveRecord } from '../history/history-store.ts';
import { photosOf, type HistoryRecord } from '../storage/db.ts';
import { photoFrom, withPhoto } from './observation.ts';

export async function addPhotoTo(record: HistoryRecord, file: File): Promise<HistoryRecord> {
  checkFileSize(file.size, file.name);
  checkPhoto(new Uint8Array(await file.arrayBuffer()), file.name);
  const { item } = await inference.identify(file, file.name, { thumbnails: true });
  if (isFailure(item)) throw new Error(item.error.message);
  const fused = await inference.fuse([...photosOf(record).map((p) => p.logits!), item.logits!], item.version);
  const next = withPhoto(record, photoFrom(item, file.name), fused);
  await saveRecord(next);
  return next;
}
