/**
 * A pack retrain's last step: the parent pack graph with the trained float
 * head (pack-head.ts), run in onnxruntime-node on sample photos beside the
 * parent and checked before anything is written: the same input and outputs,
 * the embedding unchanged, the logits equal to the float head math on that
 * embedding. Then registered as a candidate pack version (node/pack-registry.ts,
 * under the registry lock), the check running on the very bytes registered.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Head } from '../core/head-train.ts';
import type { SpeciesPack } from '../core/manifest.ts';
import { NodePack } from '../node/pack-classifier.ts';
import { registerPackVersion } from '../node/pack-registry.ts';
import { headLogits } from './base-head.ts';
import { exportPackWithHead } from './pack-head.ts';
import { gitCommit } from './retrain-export.ts';

/** Largest |exported - float head math| a logit may show (float32 summation order), and an embedding (none). */
export const PACK_EXPORT_TOLERANCE = { logits: 1e-3, embedding: 1e-6 } as const;

export interface PackExportCheck {
  maxAbsDiffFloatHead: number;
  maxAbsDiffEmbedding: number;
}

async function outputs(bytes: Uint8Array, pack: SpeciesPack, tensors: Float32Array, n: number) {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const size = pack.input.size;
    const out = await s.run({ [pack.input.name]: new ort.Tensor('float32', tensors, [n, 3, size, size]) });
    return { inputs: [...s.inputNames], outputs: [...s.outputNames], logits: out[pack.outputs.logits].data as Float32Array, embedding: out[pack.outputs.embedding!].data as Float32Array };
  } finally {
    await s.release();
  }
}

/** The exported graph against the parent and the float head on `n` stacked input tensors; throws on any difference beyond tolerance. */
export async function checkPackExport(bytes: Uint8Array, parentBytes: Uint8Array, parent: SpeciesPack, head: Head, tensors: Float32Array, n: number): Promise<PackExportCheck> {
  const [got, was] = [await outputs(bytes, parent, tensors, n), await outputs(parentBytes, parent, tensors, n)];
  if (got.inputs.join() !== was.inputs.join() || got.outputs.join() !== was.outputs.join())
    throw new Error(`the exported pack has inputs ${got.inputs.join(', ')} and outputs ${got.outputs.join(', ')}; the parent ${was.inputs.join(', ')} and ${was.outputs.join(', ')}`);
  let maxAbsDiffEmbedding = 0,
    maxAbsDiffFloatHead = 0;
  for (let i = 0; i < was.embedding.length; i++) maxAbsDiffEmbedding = Math.max(maxAbsDiffEmbedding, Math.abs(got.embedding[i] - was.embedding[i]));
  const E = head.dim,
    K = head.classes;
  for (let i = 0; i < n; i++) {
    const want = headLogits(head, got.embedding.subarray(i * E, (i + 1) * E));
    for (let k = 0; k < K; k++) maxAbsDiffFloatHead = Math.max(maxAbsDiffFloatHead, Math.abs(want[k] - got.logits[i * K + k]));
  }
  const check = { maxAbsDiffFloatHead, maxAbsDiffEmbedding };
  if (got.logits.length !== n * K || maxAbsDiffFloatHead > PACK_EXPORT_TOLERANCE.logits || maxAbsDiffEmbedding > PACK_EXPORT_TOLERANCE.embedding)
    throw new Error(`the exported pack disagrees: logits vs float head ${maxAbsDiffFloatHead}, embedding vs parent ${maxAbsDiffEmbedding}`);
  return check;
}

export async function exportAndRegisterPack(opts: {
  registryDir: string;
  parent: SpeciesPack;
  parentBytes: Uint8Array;
  head: Head;
  /** Photos to check the export on. */
  samples: readonly string[];
  threads: number;
  lineage: SpeciesPack['lineage'];
  metrics: SpeciesPack['metrics'];
  log: (line: string) => void;
}): Promise<{ entry: SpeciesPack | null; check: PackExportCheck | null; reason: string | null }> {
  const { parent } = opts;
  const loaded = await NodePack.load(parent.id, { registryDir: opts.registryDir, version: parent.version, threads: 1 });
  const size = parent.input.size;
  const tensors = new Float32Array(opts.samples.length * 3 * size * size);
  for (const [i, file] of opts.samples.entries()) tensors.set(await loaded.tensorFor(new Uint8Array(readFileSync(file)), path.basename(file)), i * 3 * size * size);
  await loaded.release();
  let check: PackExportCheck | null = null;
  try {
    const entry = await registerPackVersion(opts.registryDir, {
      parent,
      bytes: (version) =>
        exportPackWithHead(opts.parentBytes, opts.head, {
          logits: parent.outputs.logits,
          embedding: parent.outputs.embedding!,
          version,
          note: `head retrained from ${parent.version} on accepted corrections`,
        }),
      verify: async (bytes) => {
        check = await checkPackExport(bytes, opts.parentBytes, parent, opts.head, tensors, opts.samples.length);
        opts.log(`export check on ${opts.samples.length} photos: max |logits - float head| = ${check.maxAbsDiffFloatHead.toExponential(2)}, max |embedding - parent's| = ${check.maxAbsDiffEmbedding}`);
      },
      lineage: { ...opts.lineage, commit: gitCommit() },
      metrics: opts.metrics,
    });
    return { entry, check, reason: null };
  } catch (err) {
    return { entry: null, check, reason: `not registered: ${(err as Error).message}` };
  }
}
