/// <reference lib="webworker" />
/**
 * The inference worker: everything heavy (decoding, resampling, the model)
 * happens here so the page never freezes. Exposed to the page with comlink.
 */
import * as Comlink from 'comlink';
import { interpret } from '../../core/postprocess.ts';
import { PhotoError } from '../../core/photo-check.ts';
import { Engine } from './engine.ts';
import { bitmapToTensor, decodePhoto, shareableJpeg, thumbnailOf } from './photo-tensor.ts';
import type { BatchItem, ClassifyOptions, ClassifyResult, EngineInfo, EngineOptions, PhotoFailure } from './types.ts';

let engine: Engine | null = null;
let engineKey = '';
/** The engine being loaded or loaded last, with the options it was asked for. */
let loading: { key: string; promise: Promise<Engine> } | null = null;

function failure(err: unknown): PhotoFailure {
  if (err instanceof PhotoError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'internal', message: `Identification failed: ${(err as Error)?.message ?? String(err)}` } };
}

function ready(): Engine {
  if (!engine) throw new Error('the model is not loaded yet');
  return engine;
}

export interface NamedPhoto { blob: Blob | ImageBitmap; name?: string }

const api = {
  /**
   * Loads a model version. Asking again with the same options returns the
   * same engine (the page and automation may both ask); other options load a
   * new engine after the current load ends, then release the old one.
   */
  async init(opts: EngineOptions): Promise<EngineInfo> {
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
  },

  /** The photo re-encoded without metadata and at most 1024 px, for an opt-in share. */
  shareablePhoto(blob: Blob): Promise<{ dataBase64: string; width: number; height: number }> {
    return shareableJpeg(blob);
  },

  info(): EngineInfo | null {
    return engine?.info ?? null;
  },

  /** Identifies one photo; a bad photo comes back as { error } with a message for people. */
  async classify(blob: Blob | ImageBitmap, name?: string, opts: ClassifyOptions = {}): Promise<ClassifyResult | PhotoFailure> {
    const [item] = await api.classifyBatch([{ blob, name }], 1, undefined, opts);
    return item;
  },

  /**
   * Identifies many photos, batchSize at a time in one tensor. Each photo
   * that cannot be read reports its own error; the others go on. onProgress
   * (a comlink proxy) hears after each batch; returning false cancels the rest.
   */
  async classifyBatch(photos: NamedPhoto[], batchSize = 8, onProgress?: (done: number, total: number) => boolean | void | Promise<boolean | void>, opts: ClassifyOptions = {}): Promise<BatchItem[]> {
    const eng = loading ? await loading.promise : ready();
    const { model } = eng;
    const s = model.input.size;
    const per = 3 * s * s;
    const size = Math.max(1, Math.min(batchSize, model.input.maxBatch ?? batchSize));
    const results: BatchItem[] = [];
    for (let start = 0; start < photos.length; start += size) {
      const chunk = photos.slice(start, start + size);
      const tensor = new Float32Array(per * chunk.length);
      const slots: Array<{ at: number; decodeMs: number; preprocessMs: number; width: number; height: number; thumbnail?: Blob } | PhotoFailure> = [];
      let filled = 0;
      for (const photo of chunk) {
        try {
          const { bitmap, ms: decodeMs } = await decodePhoto(photo.blob, photo.name);
          const preprocessMs = bitmapToTensor(bitmap, model.input, tensor, filled * per);
          const thumbnail = opts.thumbnails ? await thumbnailOf(bitmap) : undefined;
          slots.push({ at: filled++, decodeMs, preprocessMs, width: bitmap.width, height: bitmap.height, thumbnail });
          if (!(photo.blob instanceof ImageBitmap)) bitmap.close();
        } catch (err) {
          slots.push(failure(err));
        }
      }
      let out: Awaited<ReturnType<Engine['run']>> | null = null;
      let runError: PhotoFailure | null = null;
      if (filled) {
        try {
          out = await eng.run(filled === chunk.length ? tensor : tensor.subarray(0, filled * per), filled);
        } catch (err) {
          runError = failure(err);
        }
      }
      const L = model.labels.length;
      const E = model.outputs.embeddingSize;
      for (const slot of slots) {
        if ('error' in slot) { results.push(slot); continue; }
        if (!out) { results.push(runError!); continue; }
        const p0 = performance.now();
        const prediction = interpret(out.logits.subarray(slot.at * L, (slot.at + 1) * L), model.labels, eng.taxa, { abstainThreshold: model.abstainThreshold });
        const postprocessMs = performance.now() - p0;
        const inferenceMs = out.ms / filled;
        results.push({
          ...prediction,
          version: model.version,
          backend: eng.info.backend,
          embedding: out.embeddings.slice(slot.at * E, (slot.at + 1) * E),
          width: slot.width,
          height: slot.height,
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
      if (onProgress && (await onProgress(results.length, photos.length)) === false) break;
    }
    return results;
  },
};

export type InferenceApi = typeof api;

Comlink.expose(api);
