/**
 * The app's IndexedDB (via idb): identification history now, the telemetry
 * outbox and settings beside it. Everything here stays on the device.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ClassifyResult } from '../../workers/inference/types.ts';

export interface Correction {
  verdict: 'confirmed' | 'corrected';
  taxonId?: string;
  proposedName?: string;
  at: number;
}

/** One identification as kept on the device: the worker's result, plus when, what and what the user said. */
export interface HistoryRecord extends Omit<ClassifyResult, 'thumbnail'> {
  /** Also the identification's telemetry event id. */
  id: string;
  createdAt: number;
  name: string;
  thumbnail: Blob | null;
  correction?: Correction;
}

interface WildsightDB extends DBSchema {
  identifications: { key: string; value: HistoryRecord; indexes: { createdAt: number } };
  outbox: { key: string; value: { id: string; createdAt: number; attempts: number; nextAttemptAt: number; event: unknown } ; indexes: { nextAttemptAt: number } };
  settings: { key: string; value: unknown };
}

let db: Promise<IDBPDatabase<WildsightDB>> | null = null;

export function openAppDb(): Promise<IDBPDatabase<WildsightDB>> {
  db ??= openDB<WildsightDB>('wildsight', 1, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('identifications', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
        database.createObjectStore('outbox', { keyPath: 'id' }).createIndex('nextAttemptAt', 'nextAttemptAt');
        database.createObjectStore('settings');
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
