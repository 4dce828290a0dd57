/** Identification history on the device. */
import { openAppDb, type Correction, type HistoryRecord } from '../storage/db.ts';
import type { ClassifyResult } from '../../workers/inference/types.ts';
import { startObservation } from '../observation/observation.ts';

/** A photo's result as a 1-photo observation. */
export function recordFrom(result: ClassifyResult, name: string, id: string = crypto.randomUUID()): HistoryRecord {
  return startObservation(result, name, id);
}

export async function saveRecord(record: HistoryRecord): Promise<void> {
  await (await openAppDb()).put('identifications', record);
}

export async function listRecords(): Promise<HistoryRecord[]> {
  const records = await (await openAppDb()).getAllFromIndex('identifications', 'createdAt');
  return records.reverse();
}

export async function getRecord(id: string): Promise<HistoryRecord | undefined> {
  return (await openAppDb()).get('identifications', id);
}

export async function deleteRecord(id: string): Promise<void> {
  await (await openAppDb()).delete('identifications', id);
}

export async function deleteAllRecords(): Promise<void> {
  await (await openAppDb()).clear('identifications');
}

export async function setCorrection(id: string, correction: Correction): Promise<void> {
  const db = await openAppDb();
  const tx = db.transaction('identifications', 'readwrite');
  const record = await tx.store.get(id);
  if (record) await tx.store.put({ ...record, correction });
  await tx.done;
}
