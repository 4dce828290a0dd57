/** The page's handle on the inference worker (one per page). */
import * as Comlink from 'comlink';
import type { InferenceApi } from '../../workers/inference/inference.worker.ts';
import type { BackendChoice, EngineOptions } from '../../workers/inference/types.ts';

export const MANIFEST_URL = '/models/registry/manifest.json';

let worker: Comlink.Remote<InferenceApi> | null = null;

export function inferenceWorker(): Comlink.Remote<InferenceApi> {
  if (!worker) {
    const w = new Worker(new URL('../../workers/inference/inference.worker.ts', import.meta.url), { type: 'module', name: 'inference' });
    worker = Comlink.wrap<InferenceApi>(w);
  }
  return worker;
}

/** Options from the address bar (?backend=wasm|webgpu&model=1.0.0&threads=2), for comparisons and tests. */
export function engineOptionsFromUrl(search = location.search): EngineOptions {
  const params = new URLSearchParams(search);
  const backend = params.get('backend');
  const threads = Number(params.get('threads'));
  return {
    manifestUrl: MANIFEST_URL,
    version: params.get('model') ?? undefined,
    backend: backend === 'wasm' || backend === 'webgpu' ? (backend as BackendChoice) : 'auto',
    threads: threads > 0 ? threads : undefined,
  };
}
