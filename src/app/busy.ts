import { useSyncExternalStore } from 'react';

/**
 * Counts identifications in flight, so a waiting app update is only applied
 * between identifications, never in the middle of one.
 */
let inFlight = 0;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export async function whileBusy<T>(work: () => Promise<T>): Promise<T> {
  inFlight++;
  emit();
  try {
    return await work();
  } finally {
    inFlight--;
    emit();
  }
}

export function useBusy(): boolean {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => inFlight > 0,
  );
}
