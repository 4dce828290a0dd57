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

export function findPack(id: string, registryDir = REGISTRY_DIR): SpeciesPack {
  const manifest = readManifest(registryDir);
  const pack = manifest?.packs?.find((p) => p.id === id);
  if (!pack) throw new Error(`species pack ${id} is not in the registry (have: ${(manifest?.packs ?? []).map((p) => p.id).join(', ') || 'none'}); run \`npm run models:build\``);
  return pack;
}

export class NodePack {
  private constructor(
    readonly pack: SpeciesPack,
    readonly taxa: Array<Taxon | null>,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(id: string, opts: { registryDir?: string; threads?: number; index?: TaxonIndex } = {}): Promise<NodePack> {
    const pack = findPack(id, opts.registryDir);
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

  async release() {
    await this.session.release();
  }
}
