/**
 * The page's side of the inference worker, after Squoosh's worker bridge
 * (src/client/lazy-app/worker-bridge): the worker starts on the first call,
 * not with the page; every call may carry an AbortSignal; the worker (and
 * with it the engine's memory: onnxruntime's WASM heap never shrinks) is let
 * go after an idle period or as soon as the page is hidden, and started
 * again, with the same model and shadow candidate, by the next call.
 *
 * Unlike Squoosh, an abort does not terminate the worker (a reload costs
 * seconds): the bridge sends cancel(callId) and the worker stops between
 * photos (workers/inference/cancel.ts). Rejections arrive as { code } and
 * become an InferenceError the page branches on by code.
 */
import * as Comlink from 'comlink';
import type { InferenceApi, NamedPhoto } from '../../workers/inference/inference.worker.ts';
import { isWireError, type WorkerErrorCode } from '../../workers/inference/errors.ts';
import type { BatchItem, BatchOutcome, ClassifyOptions, ClassifyResult, EngineInfo, EngineOptions, LiveFrame, PhotoFailure, ShadowInfo, ShadowResult } from '../../workers/inference/types.ts';
import type { ModelVersion, SpeciesPack } from '../../core/manifest.ts';
import type { Prediction } from '../../core/postprocess.ts';

export class InferenceError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

const aborted = () => new InferenceError('aborted', 'the call was cancelled');

function decode(err: unknown): InferenceError {
  if (err instanceof InferenceError) return err;
  if (isWireError(err)) return new InferenceError(err.code, err.message);
  return new InferenceError('internal', (err as Error)?.message ?? String(err));
}

/** One photo's answer, with the shadow candidate's result on the same photo (null when it was not sampled). */
export interface Identified {
  item: ClassifyResult | PhotoFailure;
  shadow: Promise<ShadowResult | null>;
}

export interface BridgeStats {
  /** Workers started: the first, then one per call after each release. */
  starts: number;
  releases: number;
  /** What the last restart after a release cost before its call could run (worker start, model load, warm-up). */
  lastResumeMs: number | null;
}

type Api = Comlink.Remote<InferenceApi>;

export class InferenceBridge {
  private worker: Worker | null = null;
  private api: Promise<Api> | null = null;
  /** What the worker held, replayed into a fresh one after a release. */
  private engine: EngineOptions | null = null;
  private shadow: { opts: EngineOptions; sampleRate: number } | null = null;
  private inFlight = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly counts: BridgeStats = { starts: 0, releases: 0, lastResumeMs: null };
  /** The running engine as the last init reported it (no worker call needed to know it). */
  info: EngineInfo | null = null;
  /**
   * Photos the model itself failed on, per version, until a report takes
   * them: counted here as results pass, so a released worker loses none and
   * asking never starts one.
   */
  private failures = new Map<string, number>();

  constructor(
    private readonly spawn: () => Worker,
    private readonly idleMs: number,
  ) {
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden') this.release();
      });
    }
  }

  stats(): BridgeStats {
    return { ...this.counts };
  }

  /** Loads a model version (see the worker's init); remembered, so a fresh worker loads it again. */
  async init(opts: EngineOptions): Promise<EngineInfo> {
    const before = this.engine;
    // No worker running: the one this call starts loads these options, not the old ones first.
    if (!this.api) this.engine = opts;
    try {
      const info = await this.call((api) => api.init(opts));
      this.engine = opts;
      this.info = info;
      return info;
    } catch (err) {
      if (this.engine === opts) this.engine = before;
      throw err;
    }
  }

  async setShadow(opts: EngineOptions | null, sampleRate = 0): Promise<ShadowInfo | null> {
    const info = await this.call((api) => api.setShadow(opts, sampleRate));
    this.shadow = opts ? { opts, sampleRate } : null;
    return info;
  }

  identify(photo: Blob | ImageBitmap, name: string | undefined, opts: ClassifyOptions = {}, signal?: AbortSignal): Promise<Identified> {
    return this.call(async (api, id) => {
      const { item, shadowSampled } = await api.classify(photo, name, opts, id);
      this.count([item]);
      // Asked at once, while this call still holds the worker; the caller may wait for it or not.
      const shadow = shadowSampled ? this.hold(api.shadowOf(id)) : Promise.resolve(null);
      return { item, shadow: shadow.catch(() => null) };
    }, signal);
  }

  /**
   * One live preview frame, transferred to the worker (it is closed there:
   * the caller must not use it again). The caller keeps at most one frame in
   * flight (src/camera/frame-pump.ts) and drops frames while one is.
   */
  classifyFrame(frame: ImageBitmap, keepAbove: number, signal?: AbortSignal): Promise<LiveFrame> {
    return this.call((api, id) => api.classifyFrame(Comlink.transfer(frame, [frame]), keepAbove, id), signal);
  }

  /** A batch in one call; aborted, it resolves with the photos the worker finished and cancelled: true. */
  classifyBatch(photos: NamedPhoto[], opts: ClassifyOptions & { batchSize: number; signal?: AbortSignal }): Promise<BatchOutcome> {
    const { batchSize, signal, ...rest } = opts;
    return this.call(async (api, id) => {
      const outcome = await api.classifyBatch(photos, batchSize, rest, id);
      this.count(outcome.items);
      return outcome;
    }, signal);
  }

  download(model: ModelVersion, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network' | 'head-pack'> {
    return this.call((api) => api.download(model, url, onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  /** The fused answer of an observation's photos (their logits, all from `version`). */
  fuse(logits: Float32Array[], version: string): Promise<Prediction> {
    return this.call((api) => api.fuse(logits, version));
  }

  /** Species packs: downloaded and verified, removed, listed (workers/inference/model-store.ts). */
  downloadPack(pack: SpeciesPack, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network'> {
    return this.call((api) => api.downloadPack(pack, url, onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  removePack(pack: SpeciesPack): Promise<boolean> {
    return this.call((api) => api.removePack(pack));
  }

  shareablePhoto(blob: Blob): Promise<{ dataBase64: string; width: number; height: number }> {
    return this.call((api) => api.shareablePhoto(blob));
  }

  /** Identifications that failed in the model with this version since the last call. */
  takeErrors(version: string): number {
    const n = this.failures.get(version) ?? 0;
    this.failures.delete(version);
    return n;
  }

  private count(items: BatchItem[]) {
    for (const item of items) {
      if ('error' in item && item.error.code === 'run-error' && item.version) this.failures.set(item.version, (this.failures.get(item.version) ?? 0) + 1);
    }
  }

  /** Lets the worker go now if nothing is running (else when the last call ends, if the page is still hidden). */
  release(): void {
    clearTimeout(this.idleTimer);
    if (this.inFlight > 0 || !this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.api = null;
    this.counts.releases++;
  }

  /**
   * Runs one call on a started worker. On abort the worker is told to stop:
   * a batch then resolves with what it finished, a single photo rejects
   * with code 'aborted'.
   */
  private async call<T>(work: (api: Api, id: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw aborted();
    this.inFlight++;
    clearTimeout(this.idleTimer);
    try {
      const api = await this.started();
      if (signal?.aborted) throw aborted();
      const id = this.nextId++;
      const onAbort = () => {
        void api.cancel(id);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await work(api, id);
      } catch (err) {
        throw decode(err);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    } finally {
      this.settle();
    }
  }

  /** Keeps the worker while a promise from it is pending (a shadow result outlives its call). */
  private hold<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.settle());
  }

  private settle() {
    this.inFlight--;
    if (this.inFlight > 0) return;
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') this.release();
    else this.idleTimer = setTimeout(() => this.release(), this.idleMs);
  }

  /** The worker, started on first use; after a release, with the engine and shadow it had. */
  private started(): Promise<Api> {
    if (this.api) return this.api;
    const resume = this.engine;
    const shadow = this.shadow;
    const t0 = performance.now();
    this.worker = this.spawn();
    this.counts.starts++;
    const api = Comlink.wrap<InferenceApi>(this.worker);
    this.api = (async () => {
      if (resume) {
        try {
          this.info = await api.init(resume);
        } catch (err) {
          throw decode(err);
        }
        if (shadow) await api.setShadow(shadow.opts, shadow.sampleRate).catch(() => null);
        if (this.counts.releases > 0) this.counts.lastResumeMs = performance.now() - t0;
      }
      return api;
    })();
    // A failed start is not kept: the next call tries again.
    this.api.catch(() => {
      if (this.worker) this.worker.terminate();
      this.worker = null;
      this.api = null;
    });
    return this.api;
  }
}
