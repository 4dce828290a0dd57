/**
 * The inference worker: everything heavy (decoding, resampling, the model)
 * happens here so the page never freezes. Exposed to the page with comlink.
 */
import * as Comlink from 'comlink';
import { interpret, type Prediction } from '../../core/postprocess.ts';
import { fuseLogits } from '../../core/fusion.ts';
import { PhotoError } from '../../core/photo-check.ts';
import { Engine } from './engine.ts';
import { bitmapToTensor, decodePhoto, shareableJpeg, thumbnailOf } from './photo-tensor.ts';
import { downloadModel, downloadPack, removePack } from './model-store.ts';
import { choosePack, forgetPack, runPack } from './packs.ts';
import type { SpeciesPack } from '../../core/manifest.ts';
import { frameJpeg, frameSharpness } from './live-frame.ts';
import { begin, cancel, type Token } from './cancel.ts';
import { toWire, WorkerError } from './errors.ts';
import type { ModelVersion } from '../../core/manifest.ts';
import { MAX_TIMING_MS } from '../../core/telemetry.ts';
import type { BatchItem, BatchOutcome, ClassifyOptions, ClassifyResult, EngineInfo, EngineOptions, Identification, LiveFrame, PhotoFailure, ShadowInfo, ShadowResult } from './types.ts';

let engine: Engine | null = null;
let engineKey = '';
/** The engine being loaded or loaded last, with the options it was asked for. */
let loading: { key: string; promise: Promise<Engine> } | null = null;

function failure(err: unknown): PhotoFailure {
  if (err instanceof PhotoError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'internal', message: `Identification failed: ${(err as Error)?.message ?? String(err)}` } };
}

function ready(): Engine {
  if (!engine) throw new WorkerError('not-loaded', 'the model is not loaded yet');
  return engine;
}

/** Every call's rejection crosses as { code, message } (errors.ts), never as a bare Error. */
const coded = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (err) {
    // A plain { code, message } object on purpose: comlink sends it as it is, where an Error would lose its code.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw toWire(err);
  }
};

export interface NamedPhoto {
  blob: Blob | ImageBitmap;
  name?: string;
}

/**
 * Shadow evaluation: a candidate version, loaded beside the answering one,
 * runs on a sample of single-photo identifications in idle time, on the very
 * tensor the answering model saw. Its answer is never shown; only agreement
 * and latency are kept, until the page takes them for the telemetry event.
 */
let shadow: { engine: Engine; sampleRate: number; credit: number; key: string } | null = null;
let shadowLoading: Promise<unknown> = Promise.resolve();
/** Sampled shadow runs by the identification's call id, until the page's bridge asks for them (at once). */
const shadowResults = new Map<number, Promise<ShadowResult | null>>();
const MAX_PENDING_SHADOWS = 20;

const sameInput = (a: ModelVersion['input'], b: ModelVersion['input']) =>
  a.size === b.size &&
  a.resizeShorter === b.resizeShorter &&
  a.scale === b.scale &&
  a.layout === b.layout &&
  a.channels === b.channels &&
  a.mean.every((m, i) => m === b.mean[i]) &&
  a.std.every((m, i) => m === b.std[i]);

const idle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function runShadow(tensor: Float32Array, primary: ClassifyResult): Promise<ShadowResult | null> {
  const sh = shadow;
  if (!sh) return null;
  await idle();
  const model = sh.engine.model;
  const t0 = performance.now();
  try {
    const out = await sh.engine.run(tensor, 1);
    const prediction = interpret(out.logits.subarray(0, model.labels.length), model.labels, sh.engine.taxa, { abstainThreshold: model.abstainThreshold });
    const mine = new Set(primary.top5.map((x) => x.taxonId));
    return {
      modelVersion: model.version,
      top1Agree: prediction.top5[0]?.taxonId === primary.top5[0]?.taxonId,
      top5Overlap: Math.min(5, prediction.top5.filter((x) => mine.has(x.taxonId)).length),
      inferenceMs: Math.min(MAX_TIMING_MS, out.ms),
      failed: false,
    };
  } catch {
    return { modelVersion: model.version, top1Agree: false, top5Overlap: 0, inferenceMs: Math.min(MAX_TIMING_MS, performance.now() - t0), failed: true };
  }
}

const api = {
  /**
   * Loads a model version. Asking again with the same options returns the
   * same engine (the page and automation may both ask); other options load a
   * new engine after the current load ends, then release the old one.
   */
  init: (opts: EngineOptions): Promise<EngineInfo> =>
    coded(async () => {
      const key = JSON.stringify(opts);
      if (loading?.key === key) return (await loading.promise).info;
      if (engine && engineKey === key) return engine.info;
      const before = loading?.promise.catch(() => null) ?? Promise.resolve(null);
      const promise = before.then(async () => {
        const next = await Engine.create(opts);
        const previous = engine;
        engine = next;
        engineKey = key;
        await previous?.release();
        return next;
      });
      loading = { key, promise };
      try {
        return (await promise).info;
      } finally {
        if (loading?.promise === promise) loading = null;
      }
    }),

  /** The photo re-encoded without metadata and at most 1024 px, for an opt-in share. */
  shareablePhoto: (blob: Blob): Promise<{ dataBase64: string; width: number; height: number }> => coded(() => shareableJpeg(blob)),

  /** Stops the call with this id (the page's AbortSignal fired); see cancel.ts. */
  cancel(callId: number): void {
    cancel(callId);
  },

  /**
   * Identifies one photo; a bad photo comes back as { error } with a message
   * for people. shadowSampled says the shadow candidate runs on it too: the
   * page's bridge then asks shadowOf(callId) for that result.
   */
  classify: (blob: Blob | ImageBitmap, name: string | undefined, opts: ClassifyOptions, callId?: number): Promise<Identification> =>
    coded(async () => {
      const token = begin(callId);
      try {
        let kept: Float32Array | null = null;
        let bitmap: ImageBitmap | null = null;
        const wantsPack = !!opts.packs?.length;
        let item: BatchItem;
        try {
          ({
            items: [item],
          } = await classifyPhotos(
            [{ blob, name }],
            1,
            opts,
            token,
            (tensor) => {
              kept = tensor;
            },
            wantsPack
              ? (b) => {
                  bitmap = b;
                }
              : undefined,
          ));
          token.throwIfCancelled();
          // A species pack runs on the same decoded photo, with its own preprocessing.
          if (bitmap && !('error' in item)) await withPack(item, bitmap, opts);
        } finally {
          if (bitmap && !(blob instanceof ImageBitmap)) (bitmap as ImageBitmap).close();
        }
        token.throwIfCancelled();
        const sh = shadow;
        if (callId !== undefined && sh && kept && !('error' in item) && sameInput(sh.engine.model.input, (engine ?? ready()).model.input)) {
          sh.credit += sh.sampleRate;
          if (sh.credit >= 1) {
            sh.credit -= 1;
            shadowResults.set(callId, runShadow(kept, item));
            while (shadowResults.size > MAX_PENDING_SHADOWS) shadowResults.delete(shadowResults.keys().next().value!);
            return { item, shadowSampled: true };
          }
        }
        return { item, shadowSampled: false };
      } finally {
        token.end();
      }
    }),

  /**
   * Identifies one live preview frame (transferred: the worker closes it).
   * Also measures its sharpness and, when that beats keepAbove (the best
   * frame the page holds; -1 keeps this one), returns the frame as a JPEG.
   * No thumbnail, no shadow run, no embedding: a frame is not an observation
   * until the user takes it as one.
   */
  classifyFrame: (frame: ImageBitmap, keepAbove: number, callId?: number): Promise<LiveFrame> =>
    coded(async () => {
      const token = begin(callId);
      const t0 = performance.now();
      try {
        const s0 = performance.now();
        const sharp = frameSharpness(frame);
        const sharpnessMs = performance.now() - s0;
        const {
          items: [item],
        } = await classifyPhotos([{ blob: frame }], 1, {}, token);
        token.throwIfCancelled();
        if (!item || 'error' in item) throw new WorkerError('internal', item ? item.error.message : 'the frame was not classified');
        const p0 = performance.now();
        const photo = sharp > keepAbove ? await frameJpeg(frame) : undefined;
        const photoMs = photo ? performance.now() - p0 : 0;
        return {
          top5: item.top5.map(({ taxonId, commonName, probability }) => ({ taxonId, commonName, probability })),
          otherProbability: item.otherProbability,
          version: item.version,
          sharpness: sharp,
          ...(photo ? { photo } : {}),
          width: frame.width,
          height: frame.height,
          timings: { preprocessMs: item.timings.preprocessMs, inferenceMs: item.timings.inferenceMs, sharpnessMs, photoMs, totalMs: performance.now() - t0 },
        };
      } finally {
        frame.close();
        token.end();
      }
    }),

  /**
   * One answer for an observation: its photos' logits fused (core/fusion.ts,
   * sum of log-probabilities) and read as one photo's would be, by the
   * version that answered them. Refused when that version is not the one loaded.
   */
  fuse: (logits: Float32Array[], version: string): Promise<Prediction> =>
    coded(async () => {
      const eng = loading ? await loading.promise : ready();
      const model = eng.model;
      if (model.version !== version) throw new WorkerError('version-changed', `these photos were answered by model ${version}, and ${model.version} is loaded now`);
      return interpret(fuseLogits(logits), model.labels, eng.taxa, { abstainThreshold: model.abstainThreshold });
    }),

  /** The shadow result of the identification with this call id (waits for it), once. */
  async shadowOf(callId: number): Promise<ShadowResult | null> {
    const pending = shadowResults.get(callId);
    if (!pending) return null;
    shadowResults.delete(callId);
    return pending;
  },

  /** Downloads (or finds on the device) a species pack, verifies it and keeps it for offline use. */
  downloadPack: (pack: SpeciesPack, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network'> => coded(() => downloadPack(pack, url, onProgress)),

  /** Deletes a species pack from the device (and its session); true when there was a copy. */
  removePack: (pack: SpeciesPack): Promise<boolean> =>
    coded(async () => {
      await forgetPack(pack.id);
      return removePack(pack);
    }),

  /** Downloads (or finds on the device) a version, verifies it and keeps it; progress through a comlink proxy. */
  download: (model: ModelVersion, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network' | 'head-pack'> => coded(() => downloadModel(model, url, onProgress)),

  /** Loads (or replaces, or with null drops) the shadow candidate. */
  setShadow: (opts: EngineOptions | null, sampleRate = 0): Promise<ShadowInfo | null> =>
    coded(async () => {
      const key = opts ? JSON.stringify(opts) : '';
      const work = shadowLoading.then(async () => {
        if (shadow && shadow.key === key) {
          shadow.sampleRate = sampleRate;
          return;
        }
        const old = shadow;
        shadow = null;
        await old?.engine.release().catch(() => {});
        if (!opts) return;
        // One thread and no warm-up: the shadow must not slow the answering model down.
        const eng = await Engine.create({ ...opts, threads: 1, warmUp: false, backend: 'wasm' });
        if (eng.model.version !== opts.model?.version) {
          await eng.release();
          throw new WorkerError('shadow-not-stored', `shadow candidate ${opts.model?.version} is not on this device`);
        }
        shadow = { engine: eng, sampleRate, credit: 1, key };
      });
      shadowLoading = work.catch(() => undefined);
      await work;
      return shadow ? { version: shadow.engine.model.version, sampleRate: shadow.sampleRate } : null;
    }),

  /**
   * Identifies many photos, batchSize at a time in one tensor. Each photo
   * that cannot be read reports its own error; the others go on. Cancelled
   * (cancel(callId)), it stops before the next photo and returns what it
   * finished: items holds exactly the photos it worked on.
   */
  classifyBatch: (photos: NamedPhoto[], batchSize: number, opts: ClassifyOptions, callId?: number): Promise<BatchOutcome> =>
    coded(async () => {
      const token = begin(callId);
      try {
        return await classifyPhotos(photos, batchSize, opts, token);
      } finally {
        token.end();
      }
    }),
};

/**
 * Runs the pack the user asked for (opts.pack) or the base answer routes
 * to, among those on the device (opts.packs), and puts its answer beside
 * the base one. A pack that fails leaves the base answer standing, with why.
 */
async function withPack(item: ClassifyResult, bitmap: ImageBitmap, opts: ClassifyOptions) {
  const eng = ready();
  try {
    const chosen = choosePack(opts.pack ? null : item, eng.taxa, opts.packs ?? [], opts.pack);
    if (!chosen) return;
    const run = await runPack(bitmap, chosen.pack, chosen.routedBy, eng);
    item.pack = run;
    item.timings.totalMs += run.preprocessMs + run.inferenceMs;
  } catch (err) {
    item.packError = (err as Error)?.message ?? String(err);
  }
}

/**
 * classifyBatch, with hooks that see each batch's input tensor (the shadow
 * reuses it) and take each decoded bitmap (the caller then closes it).
 */
async function classifyPhotos(
  photos: NamedPhoto[],
  batchSize: number,
  opts: ClassifyOptions,
  token: Token,
  onTensor?: (tensor: Float32Array) => void,
  onBitmap?: (bitmap: ImageBitmap) => void,
): Promise<BatchOutcome> {
  const eng = loading ? await loading.promise : ready();
  const { model } = eng;
  const s = model.input.size;
  const per = 3 * s * s;
  const size = Math.max(1, Math.min(batchSize, model.input.maxBatch ?? batchSize));
  const results: BatchItem[] = [];
  for (let start = 0; start < photos.length && !token.cancelled; start += size) {
    // A cancel mid-chunk shortens it: the photos after it are never decoded.
    const chunk = photos.slice(start, start + size);
    const tensor = new Float32Array(per * chunk.length);
    const slots: Array<{ at: number; decodeMs: number; preprocessMs: number; width: number; height: number; decodedBy?: ClassifyResult['decodedBy']; thumbnail?: Blob } | PhotoFailure> = [];
    let filled = 0;
    for (const photo of chunk) {
      if (token.cancelled) break;
      try {
        const { bitmap, ms: decodeMs, width, height, decodedBy } = await decodePhoto(photo.blob, photo.name, model.input);
        const preprocessMs = bitmapToTensor(bitmap, model.input, tensor, filled * per);
        const thumbnail = opts.thumbnails ? await thumbnailOf(bitmap) : undefined;
        slots.push({ at: filled++, decodeMs, preprocessMs, width, height, decodedBy, thumbnail });
        if (onBitmap) onBitmap(bitmap);
        else if (!(photo.blob instanceof ImageBitmap)) bitmap.close();
      } catch (err) {
        slots.push(failure(err));
      }
    }
    let out: Awaited<ReturnType<Engine['run']>> | null = null;
    let runError: PhotoFailure | null = null;
    if (token.cancelled) break;
    if (filled) {
      try {
        const input = filled === chunk.length ? tensor : tensor.subarray(0, filled * per);
        out = await eng.run(input, filled);
        onTensor?.(input);
      } catch (err) {
        // Failed inside the model, not on the photo: the page counts these per version for the rollout guard.
        runError = { error: { code: 'run-error', message: failure(err).error.message }, version: model.version };
      }
    }
    const L = model.labels.length;
    const E = model.outputs.embeddingSize;
    for (const slot of slots) {
      if ('error' in slot) {
        results.push(slot);
        continue;
      }
      if (!out) {
        results.push(runError!);
        continue;
      }
      const p0 = performance.now();
      const prediction = interpret(out.logits.subarray(slot.at * L, (slot.at + 1) * L), model.labels, eng.taxa, { abstainThreshold: model.abstainThreshold });
      const postprocessMs = performance.now() - p0;
      const inferenceMs = out.ms / filled;
      results.push({
        ...prediction,
        version: model.version,
        backend: eng.info.backend,
        embedding: out.embeddings.slice(slot.at * E, (slot.at + 1) * E),
        logits: out.logits.slice(slot.at * L, (slot.at + 1) * L),
        width: slot.width,
        height: slot.height,
        ...(slot.decodedBy ? { decodedBy: slot.decodedBy } : {}),
        thumbnail: slot.thumbnail,
        timings: {
          decodeMs: slot.decodeMs,
          preprocessMs: slot.preprocessMs,
          inferenceMs,
          postprocessMs,
          totalMs: slot.decodeMs + slot.preprocessMs + inferenceMs + postprocessMs,
        },
      });
    }
  }
  return { items: results, cancelled: token.cancelled };
}

export type InferenceApi = typeof api;

Comlink.expose(api);
