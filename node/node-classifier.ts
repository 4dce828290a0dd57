/**
 * The Node path: sharp decodes and resamples, onnxruntime-node runs the
 * model, and core/ does everything else, exactly as the browser worker does.
 */
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkPhoto, decodeFailed, PHOTO_LIMITS } from '../core/photo-check.ts';
import { resampleCrop } from '../core/resample.ts';
import { resizeCropPlan, pixelsToTensor } from '../core/preprocess.ts';
import { interpret, type Prediction } from '../core/postprocess.ts';
import type { ModelVersion } from '../core/manifest.ts';
import type { Taxon, TaxonIndex } from '../core/taxonomy.ts';
import { loadTaxonIndex, loadVersion } from './registry.ts';
import { scorePhoto, type ScoredPhoto } from '../core/eval-score.ts';
import type { LabelledPhoto } from './labelled-photos.ts';

/**
 * Decodes a photo (EXIF orientation applied, alpha flattened onto black as
 * the browser canvas does) and returns the model's size x size RGB crop,
 * resampled by core/ exactly as in the browser.
 */
export async function photoToRgb(bytes: Uint8Array, spec: ModelVersion['input'], name?: string): Promise<Float32Array> {
  const probe = checkPhoto(bytes, name, 2 * spec.resizeShorter);
  let decoded: { data: Buffer; info: import('sharp').OutputInfo };
  try {
    // checkPhoto admitted a big JPEG by its reduced decode (as the browser does it); sharp decodes it whole, so the limit follows the photo.
    decoded = await sharp(bytes, { failOn: 'error', limitInputPixels: Math.max(PHOTO_LIMITS.maxMegapixels * 1e6, probe.width * probe.height) })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw decodeFailed(name);
  }
  const { data, info } = decoded;
  const plan = resizeCropPlan(info.width, info.height, spec);
  return resampleCrop(data, info.width, info.height, info.channels as 3, plan);
}

export interface NodeResult {
  prediction: Prediction;
  logits: Float32Array;
  embedding: Float32Array;
  inferenceMs: number;
}

export class NodeClassifier {
  private constructor(
    readonly model: ModelVersion,
    readonly taxa: TaxonIndex,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(opts: { version?: string; threads?: number; registryDir?: string } = {}): Promise<NodeClassifier> {
    const { model, bytes } = loadVersion(opts.version, opts.registryDir);
    return NodeClassifier.fromBytes(model, bytes, loadTaxonIndex(undefined, (model.extraTaxa ?? []) as Taxon[]), opts.threads);
  }

  /** sessionConfig: onnxruntime session config entries, e.g. { session: { disable_quant_qdq: '1' } }. */
  static async fromBytes(model: ModelVersion, bytes: Uint8Array, taxa: TaxonIndex, threads = 1, sessionConfig?: Record<string, unknown>): Promise<NodeClassifier> {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      ...(sessionConfig ? { extra: sessionConfig } : {}),
    });
    return new NodeClassifier(model, taxa, session);
  }

  async tensorFor(bytes: Uint8Array, name?: string): Promise<Float32Array> {
    return pixelsToTensor(await photoToRgb(bytes, this.model.input, name), this.model.input, 3);
  }

  /** Runs the model on n stacked input tensors. */
  async run(batch: Float32Array, n: number): Promise<{ logits: Float32Array[]; embeddings: Float32Array[]; ms: number }> {
    const s = this.model.input.size;
    const t0 = performance.now();
    const out = await this.session.run({ [this.model.input.name]: new ort.Tensor('float32', batch, [n, 3, s, s]) });
    const ms = performance.now() - t0;
    const logits = out[this.model.outputs.logits].data as Float32Array;
    const emb = out[this.model.outputs.embedding].data as Float32Array;
    const L = this.model.labels.length;
    const E = this.model.outputs.embeddingSize;
    return {
      logits: Array.from({ length: n }, (_, i) => logits.slice(i * L, (i + 1) * L)),
      embeddings: Array.from({ length: n }, (_, i) => emb.slice(i * E, (i + 1) * E)),
      ms,
    };
  }

  interpret(logits: Float32Array): Prediction {
    return interpret(logits, this.model.labels, this.taxa, { abstainThreshold: this.model.abstainThreshold });
  }

  async classifyBytes(bytes: Uint8Array, name?: string): Promise<NodeResult> {
    const tensor = await this.tensorFor(bytes, name);
    const { logits, embeddings, ms } = await this.run(tensor, 1);
    return { prediction: this.interpret(logits[0]), logits: logits[0], embedding: embeddings[0], inferenceMs: ms };
  }

  async classifyFile(file: string): Promise<NodeResult> {
    return this.classifyBytes(new Uint8Array(await readFile(file)), path.basename(file));
  }

  /**
   * Scores labelled photos for `summarize`; a photo that cannot be read is
   * reported through onError and left out. onEach is called after every photo.
   */
  async score(photos: readonly LabelledPhoto[], hooks: { onEach?: () => void; onError?: (file: string, err: Error) => void } = {}): Promise<ScoredPhoto[]> {
    const scored: ScoredPhoto[] = [];
    for (const photo of photos) {
      try {
        const { prediction, inferenceMs } = await this.classifyFile(photo.file);
        scored.push(scorePhoto(path.basename(photo.file), photo.label, prediction, inferenceMs));
      } catch (err) {
        if (!hooks.onError) throw err;
        hooks.onError(photo.file, err as Error);
      }
      hooks.onEach?.();
    }
    return scored;
  }

  async release() {
    await this.session.release();
  }
}
