/**
 * Getting a version onto the device ahead of use: checked for compatibility
 * before any byte moves, downloaded in the background with progress and
 * verified by the worker. A version the app cannot run, or whose bytes do not
 * match, is refused with a reason (kept and shown on the Model page) and the
 * rollout guard hears of it at once.
 */
import type { ModelVersion } from '../../core/manifest.ts';
import { inference, MANIFEST_URL } from '../inference/client.ts';
import { InferenceError } from '../inference/bridge.ts';
import { reportModelStatus } from '../telemetry/model-status.ts';
import { incompatibility } from './compat.ts';
import { taxonomy } from './boot.ts';
import { getState, persist, set, type Progress } from './update-state.ts';

/** How long bytes that failed their integrity check are left alone before another try. */
export const INTEGRITY_RETRY_MS = 60 * 60_000;

/** Worker codes that mean the bytes (or the head pack that builds them) are not what the manifest says. */
const INTEGRITY_CODES = new Set(['sha256-mismatch', 'size-mismatch', 'head-pack-damaged']);

const isRefused = (v: ModelVersion) => getState().refused.some((r) => r.version === v.version && r.sha256 === v.sha256 && !(r.retryAt && r.retryAt <= Date.now()));

export function refuse(v: ModelVersion, reason: string, outcome: 'refused-incompatible' | 'refused-integrity' | 'failed-to-start', retryAfterMs?: number, code?: string) {
  // The rollout guard hears of it at once: a canary refused everywhere sends no identification.
  void reportModelStatus(v.version, outcome, { message: reason, code });
  console.warn(`model ${v.version} refused: ${reason}`);
  const at = Date.now();
  const refused = [
    { version: v.version, sha256: v.sha256, reason, at, ...(retryAfterMs ? { retryAt: at + retryAfterMs } : {}) },
    ...getState().refused.filter((r) => !(r.version === v.version && r.sha256 === v.sha256)),
  ].slice(0, 10);
  set({ refused, progress: null });
  void persist();
}

/** Gets a version onto the device, verified. false when refused or not reachable now. */
export async function fetchVersion(v: ModelVersion, role: Progress['role']): Promise<boolean> {
  if (isRefused(v)) return false;
  const why = await incompatibility(v, await taxonomy());
  if (why) {
    refuse(v, why, 'refused-incompatible');
    return false;
  }
  set({ progress: { version: v.version, role, loaded: 0, total: v.bytes, phase: 'downloading' } });
  try {
    const url = new URL(v.file, new URL(MANIFEST_URL, location.href)).href;
    await inference.download(v, url, (loaded: number, total: number) => {
      set({ progress: { version: v.version, role, loaded, total, phase: 'downloading' } });
    });
    return true;
  } catch (err) {
    const e = err as Error;
    if (e instanceof InferenceError && INTEGRITY_CODES.has(e.code)) refuse(v, e.message, 'refused-integrity', INTEGRITY_RETRY_MS, e.code);
    else set({ progress: null, lastError: `Model ${v.version} could not be downloaded now: ${e?.message ?? String(err)}` });
    return false;
  }
}
