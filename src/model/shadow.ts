/**
 * The shadow candidate the server announces: downloaded like an update and
 * handed to the worker, which runs it unseen on a sample of identifications;
 * its agreement with the running version is tallied here for the Model page.
 */
import type { ShadowResult } from '../../core/telemetry.ts';
import { inference } from '../inference/client.ts';
import { fetchVersion } from './download.ts';
import { entryOf, getState, optionsFor, persist, set, type ServedModels, type ShadowStats } from './update-state.ts';

/** Starts, re-rates or stops the shadow run to match what the server announces. */
export async function syncShadow(served: ServedModels): Promise<void> {
  const state = getState();
  const sh = served.shadow;
  const candidate = sh && sh.sampleRate > 0 && sh.version !== state.current?.version ? served.versions.find((v) => v.version === sh.version) : undefined;
  if (candidate) {
    const entry = entryOf(candidate);
    if (state.shadow?.version === entry.version && state.shadow.state === 'ready') {
      await inference.setShadow(optionsFor(entry, null), sh!.sampleRate);
      set({ shadow: { ...getState().shadow!, sampleRate: sh!.sampleRate } });
    } else if (await fetchVersion(entry, 'shadow')) {
      set({ progress: null, shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'loading' } });
      try {
        await inference.setShadow(optionsFor(entry, null), sh!.sampleRate);
        set({ shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'ready' } });
      } catch (err) {
        set({ shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'failed', message: (err as Error)?.message } });
      }
    }
  } else if (state.shadow) {
    await inference.setShadow(null).catch(() => null);
    set({ shadow: null });
  }
}

/** Tallies a shadow result for the Model page. */
export function recordShadow(r: ShadowResult) {
  const state = getState();
  const s = state.shadowStats[r.modelVersion] ?? { runs: 0, top1Agree: 0, top5Overlap: 0, failures: 0, totalMs: 0 };
  const next: ShadowStats = {
    runs: s.runs + 1,
    top1Agree: s.top1Agree + (r.top1Agree ? 1 : 0),
    top5Overlap: s.top5Overlap + r.top5Overlap,
    failures: s.failures + (r.failed ? 1 : 0),
    totalMs: s.totalMs + r.inferenceMs,
  };
  set({ shadowStats: { ...state.shadowStats, [r.modelVersion]: next } });
  void persist();
}
