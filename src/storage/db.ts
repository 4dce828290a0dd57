/**
 * The app's IndexedDB (via idb): identification history now, the telemetry
 * outbox and settings beside it. Everything here stays on the device.
 */
import { openDB, unwrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { ClassifyResult } from '../../workers/inference/types.ts';

export interface Correction {
  verdict: 'confirmed' | 'corrected';
  taxonId?: string;
  proposedName?: string;
  /** The picked taxon's common name, as the picker showed it (a pack species is named even after its pack is removed). */
  label?: string;
  at: number;
}

/** One photo of an observation, with its own answer (kept so each photo's answer stays visible). */
export interface ObservationPhoto extends Omit<ClassifyResult, 'thumbnail' | 'embedding'> {
  id: string;
  name: string;
  thumbnail: Blob | null;
  embedding?: Float32Array;
}

/**
 * One observation as kept on the device: 1 to 5 photos of the same animal.
 * Its own fields are the answer the user sees: the fused answer of its
 * photos (a 1-photo observation's is that photo's), with the first photo's
 * name, size, thumbnail and embedding; `photos` holds each photo's answer.
 * A correction applies to the whole observation.
 */
export interface HistoryRecord extends Omit<ClassifyResult, 'thumbnail'> {
  /** Also the observation's identification telemetry event id. */
  id: string;
  createdAt: number;
  name: string;
  thumbnail: Blob | null;
  correction?: Correction;
  /** Absent only on a record read before the version-2 upgrade ran; see photosOf. */
  photos?: ObservationPhoto[];
}

/** The photos of an observation; a record from before observations is its own single photo. */
export function photosOf(record: HistoryRecord): ObservationPhoto[] {
  if (record.photos?.length) return record.photos;
  const { photos: _, correction: __, createdAt: ___, ...photo } = record;
  return [photo];
}

interface WildsightDB extends DBSchema {
  identifications: { key: string; value: HistoryRecord; indexes: { createdAt: number } };
  outbox: { key: string; value: { id: string; createdAt: number; attempts: number; nextAttemptAt: number; event: unknown }; indexes: { nextAttemptAt: number } };
  settings: { key: string; value: unknown };
}

let db: Promise<IDBPDatabase<WildsightDB>> | null = null;

export function openAppDb(): Promise<IDBPDatabase<WildsightDB>> {
  db ??= openDB<WildsightDB>('wildsight', 2, {
    // Synchronous: idb does not await upgrade, and the versionchange
    // transaction commits once no request is pending, so every step is a
    // request queued on it from an IndexedDB callback, never after an await.
    upgrade(database, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        database.createObjectStore('identifications', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
        database.createObjectStore('outbox', { keyPath: 'id' }).createIndex('nextAttemptAt', 'nextAttemptAt');
        database.createObjectStore('settings');
      }
      if (oldVersion >= 1 && oldVersion < 2) {
        // Version 2: history holds observations. Each single-photo record becomes a 1-photo observation, id and correction kept.
        // The raw cursor (unwrap): its onsuccess queues the update and the next step on the same transaction.
        const walk = unwrap(tx.objectStore('identifications')).openCursor();
        walk.onsuccess = () => {
          const cursor = walk.result;
          if (!cursor) return;
          const record = cursor.value as HistoryRecord;
          if (!record.photos) cursor.update({ ...record, photos: photosOf(record) });
          cursor.continue();
        };
      }
    },
  });
  return db;
}

/** IndexedDB throws QuotaExceededError when the disk is full; say so plainly. */
export function storageMessage(err: unknown): string {
  return (err as DOMException)?.name === 'QuotaExceededError'
    ? 'Storage on this device is full: this result was not saved to history. Free some space or delete old history.'
    : `Could not save to history: ${(err as Error)?.message ?? String(err)}`;
}
