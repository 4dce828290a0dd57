/**
 * Owns the onnxruntime-web session: picks the backend (WebGPU, else WASM),
 * loads and verifies the model version, warms it up, and runs batches one
 * at a time (a session cannot run two at once).
 */
import type * as OrtNs from 'onnxruntime-web';
import { validateManifest, findVersion, type Manifest, type ModelVersion } from '../../core/manifest.ts';
import { indexTaxonomy, type Taxon, type Taxonomy, type TaxonIndex } from '../../core/taxonomy.ts';
import type { Backend, EngineInfo, EngineOptions, LoadPhases } from './types.ts';
import { loadModel } from './model-store.ts';
import { WorkerError } from './errors.ts';
import { runtimeBinary, storedRuntimeUrl } from './runtime-store.ts';

type Ort = typeof OrtNs;

/** onnxruntime-web's runtime files, copied to /ort/ by the build (vite.config.ts). */
const ORT_FILES = new URL('/ort/', self.location.origin).href;
/** The plain build's loader, beside its binary. */
const RUNTIME_LOADER = 'ort-wasm-simd-threaded.mjs';

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return res;
}

async function loadOrt(backend: Backend, plainRuntime: Promise<Uint8Array>, streamFrom: Promise<string | null>): Promise<Ort> {
  // The WebGPU build's WASM kernels are slower, so a WASM session uses the plain build.
  const ort: Ort = backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = ORT_FILES;
  if (backend !== 'wasm') return ort;
  const stored = await streamFrom;
  if (stored) {
    // Streamed from the stored copy (the service worker's /ort/ route answers this URL from the Cache API).
    // runtimeBinary verifies that copy first (a damaged one is replaced by a good download under the same
    // URL), so what onnxruntime then fetches is a checked copy.
    await plainRuntime;
    ort.env.wasm.wasmPaths = { mjs: new URL(RUNTIME_LOADER, ORT_FILES).href, wasm: stored };
  } else {
    // The plain build gets its binary from runtime-store (one download, kept by sha256), not by fetching it itself.
    ort.env.wasm.wasmBinary = await plainRuntime;
  }
  return ort;
}

async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (navigator as typeof navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'WebGPU is not available in this browser';
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter';
  } catch (err) {
    return `WebGPU adapter request failed: ${(err as Error).message}`;
  }
}

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly info: EngineInfo,
    readonly model: ModelVersion,
    readonly taxa: TaxonIndex,
    private readonly ort: Ort,
    private readonly session: OrtNs.InferenceSession,
  ) {}

  static async create(opts: EngineOptions): Promise<Engine> {
    const t0 = performance.now();
    const manifestUrl = new URL(opts.manifestUrl, self.location.href).href;
    // An assigned version comes with its manifest entry: nothing to fetch but the taxonomy (cached for offline).
    const manifest: Manifest = opts.model
      ? { schemaVersion: 1, active: opts.model.version, versions: [opts.model, ...(opts.fallbacks ?? []).filter((v) => v.version !== opts.model!.version)] }
      : validateManifest(await (await fetchOk(opts.manifestUrl)).json());
    const isolated = self.crossOriginIsolated === true;
    const threads = opts.threads ?? (isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1);
    const choice = opts.backend ?? 'auto';
    // Cold start: the backend check, the runtime's import, the taxonomy and the
    // model bytes do not depend on each other, so they are fetched together.
    const backendPick = (async () => (choice === 'wasm' ? 'WebGPU not requested' : await webgpuUnavailable()))();
    // The plain WASM runtime is wanted on WebGPU devices too: it is what they fall back to, offline included.
    const plainRuntime = runtimeBinary(ORT_FILES);
    plainRuntime.catch(() => {}); // a WebGPU session does not wait for it; a WASM one sees the error
    // Only a copy already on the device is streamed: on a first visit the worker is not yet controlled by
    // the service worker, and letting onnxruntime fetch the URL itself would download the runtime twice.
    const streamFrom = opts.runtimeCompile === 'streaming' ? storedRuntimeUrl(ORT_FILES).catch(() => null) : Promise.resolve(null);
    const ortLoad = backendPick.then((reason) => loadOrt(reason ? 'wasm' : 'webgpu', plainRuntime, streamFrom));
    const phases: LoadPhases = { taxonomyMs: 0, modelMs: 0, runtimeMs: 0, sessionMs: 0 };
    const done = <T>(p: Promise<T>, key: keyof LoadPhases) =>
      p.then((v) => {
        phases[key] = performance.now() - t0;
        return v;
      });
    const [taxonomy, loaded, unavailable, firstOrt] = await Promise.all([
      done(
        fetchOk(new URL('../taxonomy.json', manifestUrl).href).then((r) => r.json() as Promise<Taxonomy>),
        'taxonomyMs',
      ),
      done(loadModel(manifest, opts.model ?? findVersion(manifest, opts.version), manifestUrl), 'modelMs'),
      backendPick,
      done(ortLoad, 'runtimeMs'),
    ]);
    const { model, bytes, source, notices } = loaded;
    let fallbackReason: string | null = choice === 'wasm' ? null : unavailable;
    let backend: Backend = unavailable ? 'wasm' : 'webgpu';

    let ort = firstOrt;
    ort.env.wasm.numThreads = threads;
    let session: OrtNs.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
    } catch (err) {
      if (backend !== 'webgpu') throw new WorkerError('session-create', (err as Error)?.message ?? String(err));
      fallbackReason = `WebGPU session failed: ${(err as Error).message}`;
      backend = 'wasm';
      ort = await loadOrt(backend, plainRuntime, streamFrom);
      ort.env.wasm.numThreads = threads;
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }).catch((e: unknown) => {
        throw new WorkerError('session-create', (e as Error)?.message ?? String(e));
      });
    }
    phases.sessionMs = performance.now() - t0;
    // A graph that lacks what the manifest promises cannot be used, whatever its sha256 says.
    const missing = [
      ...(session.inputNames.includes(model.input.name) ? [] : [`input "${model.input.name}"`]),
      ...[model.outputs.logits, model.outputs.embedding].filter((o) => !session.outputNames.includes(o)).map((o) => `output "${o}"`),
    ];
    if (missing.length) {
      await session.release().catch(() => {});
      const code = session.inputNames.includes(model.input.name) ? 'outputs' : 'input';
      throw new WorkerError(code, `model ${model.version} cannot be used by this app: its graph has no ${missing.join(', ')}`);
    }
    const info: EngineInfo = {
      version: model.version,
      backend,
      fallbackReason,
      threads: backend === 'wasm' ? threads : 0,
      crossOriginIsolated: isolated,
      loadMs: performance.now() - t0,
      loadPhases: phases,
      warmUpMs: null,
      modelSource: source,
      notices,
      labels: model.labels.length,
      embeddingSize: model.outputs.embeddingSize,
      maxBatch: model.input.maxBatch,
    };
    const engine = new Engine(info, model, indexTaxonomy(taxonomy, (model.extraTaxa ?? []) as Taxon[]), ort, session);
    if (opts.warmUp !== false) {
      const w0 = performance.now();
      const s = model.input.size;
      await engine.run(new Float32Array(3 * s * s), 1);
      info.warmUpMs = performance.now() - w0;
    }
    return engine;
  }

  /** Runs n stacked inputs; calls are queued so only one runs at a time. */
  run(batch: Float32Array, n: number): Promise<{ logits: Float32Array; embeddings: Float32Array; ms: number }> {
    const next = this.queue.then(async () => {
      const s = this.model.input.size;
      const t0 = performance.now();
      const feeds = { [this.model.input.name]: new this.ort.Tensor('float32', batch, [n, 3, s, s]) };
      const out = await this.session.run(feeds);
      const logits = out[this.model.outputs.logits];
      const embeddings = out[this.model.outputs.embedding];
      const result = {
        logits: (await logits.getData()) as Float32Array,
        embeddings: (await embeddings.getData()) as Float32Array,
        ms: performance.now() - t0,
      };
      logits.dispose();
      embeddings.dispose();
      return result;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A session for a species pack on this engine's runtime and backend, and
   * its runner: packs are small and run after the base model on the same
   * photo, so they share its onnxruntime instance rather than load another.
   */
  /** embeddingName: the pack's pooled-features output, returned beside the logits when the graph has it (a correction of the pack's answer carries it). */
  async packSession(bytes: Uint8Array, inputName: string, logitsName: string, size: number, embeddingName?: string): Promise<PackSession> {
    const session = await this.ort.InferenceSession.create(bytes, { executionProviders: [this.info.backend], graphOptimizationLevel: 'all' }).catch((e: unknown) => {
      throw new WorkerError('session-create', (e as Error)?.message ?? String(e));
    });
    if (!session.inputNames.includes(inputName) || !session.outputNames.includes(logitsName)) {
      await session.release().catch(() => {});
      throw new WorkerError('outputs', `species pack graph has no input "${inputName}" or output "${logitsName}"`);
    }
    if (embeddingName && !session.outputNames.includes(embeddingName)) {
      await session.release().catch(() => {});
      throw new WorkerError('outputs', `species pack graph has no output "${embeddingName}" that its manifest entry names as its embedding`);
    }
    const fetches = embeddingName ? [logitsName, embeddingName] : [logitsName];
    let queue: Promise<unknown> = Promise.resolve();
    return {
      run: (tensor: Float32Array) => {
        const next = queue.then(async () => {
          const t0 = performance.now();
          const out = await session.run({ [inputName]: new this.ort.Tensor('float32', tensor, [1, 3, size, size]) }, fetches);
          const logits = (await out[logitsName].getData()) as Float32Array;
          const embedding = embeddingName ? ((await out[embeddingName].getData()) as Float32Array) : undefined;
          for (const t of Object.values(out)) t.dispose();
          return { logits, embedding, ms: performance.now() - t0 };
        });
        queue = next.catch(() => undefined);
        return next;
      },
      release: () => session.release(),
    };
  }

  async release() {
    await this.session.release();
  }
}

export interface PackSession {
  run(tensor: Float32Array): Promise<{ logits: Float32Array; embedding?: Float32Array; ms: number }>;
  release(): Promise<void>;
}
