/**
 * The Node path: sharp decodes and resamples, onnxruntime-node runs the
 * model, and core/ does everything else, exactly as the browser worker does.
 */
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkPhoto, decodeFailed, PhotoError } from '../core/photo-check.ts';
import { resizeCropPlan, pixelsToTensor } from '../core/preprocess.ts';
import { interpret, type Prediction } from '../core/postprocess.ts';
import type { ModelVersion } from '../core/manifest.ts';
import type { TaxonIndex } from '../core/taxonomy.ts';
import { loadTaxonIndex, loadVersion } from './registry.ts';

/**
 * Decodes a photo, applies EXIF orientation and returns the model's size x
 * size RGB crop. Bilinear resampling, as in the torchvision transforms the
 * zoo models were trained with (measured: it is also the best of sharp's
 * kernels on imagenet-val-animals).
 */
export async function photoToRgb(bytes: Uint8Array, spec: ModelVersion['input'], name?: string): Promise<Uint8Array> {
  checkPhoto(bytes, name);
  try {
    const meta = await sharp(bytes).metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    const width = swap ? meta.height! : meta.width!;
    const height = swap ? meta.width! : meta.height!;
    const plan = resizeCropPlan(width, height, spec);
    const { data } = await sharp(bytes, { failOn: 'error' })
      .rotate()
      .resize(plan.resizedWidth, plan.resizedHeight, { fit: 'fill', kernel: 'linear' })
      .extract({ left: plan.crop.x, top: plan.crop.y, width: plan.crop.width, height: plan.crop.height })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    if (err instanceof PhotoError) throw err;
    throw decodeFailed(name);
  }
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
    return NodeClassifier.fromBytes(model, bytes, loadTaxonIndex(), opts.threads);
  }

  static async fromBytes(model: ModelVersion, bytes: Uint8Array, taxa: TaxonIndex, threads = 1): Promise<NodeClassifier> {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
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

  async release() {
    await this.session.release();
  }
}
