/**
 * The start-up decision: which version the engine starts with, before any
 * update is looked at. The version kept on the device needs no network; a
 * first start takes the server's active version when it answers within a few
 * seconds, else the bundled manifest's.
 */
import type { Taxonomy } from '../../core/taxonomy.ts';
import { openAppDb } from '../storage/db.ts';
import { engineOptionsFromUrl, MANIFEST_URL } from '../inference/client.ts';
import type { EngineOptions } from '../../workers/inference/types.ts';
import { incompatibility } from './compat.ts';
import { EMPTY, PERSIST_KEY, entryOf, getState, optionsFor, set, type Persisted, type ServedModels } from './update-state.ts';

export const MODELS_URL = '/v1/models';
export const MODELS_KEY = ['models'] as const;

export async function fetchModels(signal?: AbortSignal): Promise<ServedModels> {
  const res = await fetch(MODELS_URL, { signal, cache: 'no-cache' });
  if (!res.ok) throw new Error(`GET ${MODELS_URL}: HTTP ${res.status}`);
  return res.json() as Promise<ServedModels>;
}

let booted: Promise<EngineOptions> | null = null;
/** What a first start's GET /v1/models answered, handed once to the update query so a first visit reads it once. */
let bootServed: { served: ServedModels; at: number } | null = null;

/** The boot's own read of /v1/models, if it made one in the last minute; given out once. */
export function takeBootServed(): ServedModels | null {
  const got = bootServed && Date.now() - bootServed.at < 60_000 ? bootServed.served : null;
  bootServed = null;
  return got;
}

export function boot(): Promise<EngineOptions> {
  booted ??= (async () => {
    const url = engineOptionsFromUrl();
    if (new URLSearchParams(location.search).has('model')) {
      set({ options: url, pinnedByUrl: true });
      return url;
    }
    let saved: Persisted | undefined;
    try {
      saved = (await (await openAppDb()).get('settings', PERSIST_KEY)) as Persisted | undefined;
    } catch {
      /* no storage: start fresh */
    }
    set({ ...EMPTY, ...saved });
    const state = getState();
    if (state.current) {
      const opts = optionsFor(state.current, state.previous);
      set({ options: opts });
      return opts;
    }
    if (navigator.onLine) {
      try {
        const served = await fetchModels(AbortSignal.timeout(4000));
        bootServed = { served, at: Date.now() };
        const active = served.versions.find((v) => v.version === served.active);
        if (active && !(await incompatibility(entryOf(active), await taxonomy()))) {
          const opts = optionsFor(entryOf(active), null);
          set({ options: opts, served });
          return opts;
        }
      } catch {
        /* unreachable: the bundled manifest */
      }
    }
    set({ options: url });
    return url;
  })();
  return booted;
}

let taxonomyPromise: Promise<Taxonomy> | null = null;
export function taxonomy(): Promise<Taxonomy> {
  taxonomyPromise ??= fetch(new URL('../taxonomy.json', new URL(MANIFEST_URL, location.href)).href)
    .then((r) => {
      if (!r.ok) throw new Error(`taxonomy: HTTP ${r.status}`);
      return r.json() as Promise<Taxonomy>;
    })
    .catch((err) => {
      taxonomyPromise = null;
      throw err;
    });
  return taxonomyPromise;
}
