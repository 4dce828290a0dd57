/**
 * A species pack in onnxruntime-node, fed exactly as the browser worker
 * feeds it (sharp decodes, core/ resamples with the pack's own input spec).
 * Used by `eval --model <pack>`, the pack crop measurement and the bench.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { pixelsToTensor, type InputSpec } from '../core/preprocess.ts';
import { interpretPack, packTaxa, type PackAnswer, type SpeciesPack } from '../core/species-pack.ts';
import type { Taxon, TaxonIndex } from '../core/taxonomy.ts';
import { modelFile, readManifest, sha256 } from './registry.ts';
import { photoToRgb } from './node-classifier.ts';
import { REGISTRY_DIR } from './paths.ts';
import { activePack, findPackVersion } from './pack-registry.ts';

/** A pack's entry: the given version, else its active one (node/pack-registry.ts), with a clear error when there is none. */
export function findPack(id: string, registryDir = REGISTRY_DIR, version?: string): SpeciesPack {
  const manifest = readManifest(registryDir);
  if (!manifest) throw new Error(`no model registry at ${registryDir}; run \`npm run models:build\``);
  return version ? findPackVersion(manifest, id, version) : activePack(manifest, id);
}

export class NodePack {
  private constructor(
    readonly pack: SpeciesPack,
    readonly taxa: Array<Taxon | null>,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(id: string, opts: { registryDir?: string; version?: string; threads?: number; index?: TaxonIndex } = {}): Promise<NodePack> {
    const pack = findPack(id, opts.registryDir, opts.version);
    const bytes = readFileSync(modelFile(pack, opts.registryDir));
    if (sha256(bytes) !== pack.sha256) throw new Error(`${pack.file} does not match its sha256 in the manifest; run \`npm run models:build\``);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    return new NodePack(pack, packTaxa(pack, opts.index), session);
  }

  /** The pack's input tensor for a photo; `crop` overrides the registered one (for measuring which is better). */
  async tensorFor(bytes: Uint8Array, name?: string, crop?: InputSpec['crop']): Promise<Float32Array> {
    const spec = crop ? { ...this.pack.input, crop } : this.pack.input;
    return pixelsToTensor(await photoToRgb(bytes, spec, name), spec, 3);
  }

  async run(tensor: Float32Array): Promise<{ answer: PackAnswer; ms: number }> {
    const s = this.pack.input.size;
    const t0 = performance.now();
    const out = await this.session.run({ [this.pack.input.name]: new ort.Tensor('float32', tensor, [1, 3, s, s]) });
    const ms = performance.now() - t0;
    return { answer: interpretPack(out[this.pack.outputs.logits].data as Float32Array, this.pack, this.taxa), ms };
  }

  /** n stacked input tensors -> each photo's logits and embedding (the pack entry's outputs): what a retrain of its head reads. */
  async runBatch(batch: Float32Array, n: number): Promise<{ logits: Float32Array[]; embeddings: Float32Array[] }> {
    const { outputs, input } = this.pack;
    if (!outputs.embedding) throw new Error(`species pack ${this.pack.id} ${this.pack.version} names no embedding output`);
    const out = await this.session.run({ [input.name]: new ort.Tensor('float32', batch, [n, 3, input.size, input.size]) });
    const l = out[outputs.logits].data as Float32Array,
      e = out[outputs.embedding].data as Float32Array;
    const K = l.length / n,
      E = e.length / n;
    return { logits: Array.from({ length: n }, (_, i) => l.slice(i * K, (i + 1) * K)), embeddings: Array.from({ length: n }, (_, i) => e.slice(i * E, (i + 1) * E)) };
  }

  async release() {
    await this.session.release();
  }
}
