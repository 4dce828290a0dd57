/** The page's one inference bridge (bridge.ts), and the engine options the address bar may set. */
import { InferenceBridge } from './bridge.ts';
import type { EngineOptions } from '../../workers/inference/types.ts';

export const MANIFEST_URL = '/models/registry/manifest.json';

/**
 * Idle time after which the worker and its engine are let go. Starting them
 * again costs the next identification about 0.4 s (e2e/bridge.spec.ts prints
 * it), too much to pay between photos, so only a page left alone for minutes
 * gives its memory back (a hidden page gives it back at once).
 */
export const IDLE_RELEASE_MS = 5 * 60_000;

export const inference = new InferenceBridge(() => new Worker(new URL('../../workers/inference/inference.worker.ts', import.meta.url), { type: 'module', name: 'inference' }), IDLE_RELEASE_MS);

/** Options from the address bar (?backend=wasm|webgpu&model=1.0.0&threads=2&runtime=bytes|streaming), for comparisons and tests. */
export function engineOptionsFromUrl(search = location.search): EngineOptions {
  const params = new URLSearchParams(search);
  const backend = params.get('backend');
  const threads = Number(params.get('threads'));
  return {
    manifestUrl: MANIFEST_URL,
    version: params.get('model') ?? undefined,
    backend: backend === 'wasm' || backend === 'webgpu' ? backend : 'auto',
    threads: threads > 0 ? threads : undefined,
    ...(params.get('runtime') === 'bytes' || params.get('runtime') === 'streaming' ? { runtimeCompile: params.get('runtime') as 'bytes' | 'streaming' } : {}),
  };
}
