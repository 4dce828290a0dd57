/**
 * Cancellation inside the worker. The page cannot send an AbortSignal through
 * postMessage, so each call that may be cancelled carries an id and the
 * page's bridge sends cancel(id) when its signal fires. The work checks its
 * token between photos: the message is handled while the work awaits a
 * decode or a model run, so the remaining photos are never started.
 */
import { WorkerError } from './errors.ts';

export interface Token {
  readonly cancelled: boolean;
  throwIfCancelled(): void;
}

const live = new Map<number, { cancelled: boolean }>();
/** Ids cancelled before their call arrived (the page aborted at once). */
const early = new Set<number>();

export function begin(id: number | undefined): Token & { end(): void } {
  const state = { cancelled: id !== undefined && early.delete(id) };
  if (id !== undefined) live.set(id, state);
  return {
    get cancelled() {
      return state.cancelled;
    },
    throwIfCancelled() {
      if (state.cancelled) throw new WorkerError('aborted', 'the call was cancelled');
    },
    end() {
      if (id !== undefined) live.delete(id);
    },
  };
}

export function cancel(id: number): void {
  const state = live.get(id);
  if (state) state.cancelled = true;
  else {
    early.add(id);
    // Bounded: an id whose call never comes must not pile up.
    if (early.size > 100) early.delete(early.values().next().value!);
  }
}
