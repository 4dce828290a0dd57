/**
 * Switching the engine to a version already on the device, only between
 * identifications; the version it ran before is kept as the offline rollback.
 */
import type { ModelVersion } from '../../core/manifest.ts';
import { inference } from '../inference/client.ts';
import { InferenceError } from '../inference/bridge.ts';
import { currentEngine, whenIdle } from './engine-sync.ts';
import { refuse } from './download.ts';
import { entryOf, getState, optionsFor, persist, set } from './update-state.ts';

export async function switchTo(v: ModelVersion): Promise<boolean> {
  set({ progress: { version: v.version, role: 'update', loaded: v.bytes, total: v.bytes, phase: 'waiting' } });
  await whenIdle();
  set({ progress: { version: v.version, role: 'update', loaded: v.bytes, total: v.bytes, phase: 'switching' } });
  const state = getState();
  const engineInfo = currentEngine();
  const from = state.current ?? (engineInfo ? (state.served?.versions.find((x) => x.version === engineInfo.version) ?? null) : null);
  const opts = optionsFor(v, from ? entryOf(from) : null);
  try {
    const info = await inference.init(opts);
    if (info.version !== v.version) throw new Error(`version ${info.version} was loaded instead`);
  } catch (err) {
    // The worker's code says why; the wrong-version check above is the page's own.
    refuse(v, `it could not be started: ${(err as Error)?.message ?? String(err)}`, 'failed-to-start', undefined, err instanceof InferenceError ? err.code : 'wrong-version-loaded');
    return false;
  }
  const previous = from && from.version !== v.version ? entryOf(from) : getState().previous;
  set({ current: v, previous, options: opts, progress: null, lastError: null });
  await persist();
  return true;
}
