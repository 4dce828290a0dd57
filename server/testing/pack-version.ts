/**
 * A new version of a species pack for the pack rollout tests, registered
 * as the pipeline registers a retrained head (node/pack-registry.ts
 * registerPackVersion: the next patch version, a candidate, under
 * packs/<id>/<version>/model.onnx): the pack's own model.onnx with its head
 * changed (the classifier's bias, the last int32 initializer with one value
 * per class, nudged by one step in its first value: a real, loadable graph
 * whose answers barely differ and whose sha256 does). The one place the
 * tests make pack versions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SpeciesPack } from '../../core/manifest.ts';
import { DataType, decodeModel, encodeModel } from '../../node/onnx-graph.ts';
import { activePack, registerPackVersion } from '../../node/pack-registry.ts';
import { readManifest } from '../../node/registry.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';

/** Registers the next version of pack `id` in `registryDir`, from the active version's bytes in `from` (the built registry). */
export async function addPackVersion(registryDir: string, id: string, from = REGISTRY_DIR): Promise<SpeciesPack> {
  const manifest = readManifest(registryDir);
  if (!manifest) throw new Error(`no model manifest in ${registryDir}`);
  const parent = activePack(manifest, id);
  const model = decodeModel(new Uint8Array(readFileSync(path.join(from, parent.file))));
  const head = model.graph!.initializer!.findLast((t) => t.dataType === DataType.INT32 && t.dims?.length === 1 && Number(t.dims[0]) === parent.outputs.classes);
  if (!head?.rawData?.length) throw new Error(`species pack ${id} has no int32 bias of ${parent.outputs.classes} raw values to change`);
  head.rawData = Uint8Array.from(head.rawData);
  head.rawData[0] ^= 1;
  return registerPackVersion(registryDir, { parent, bytes: encodeModel(model), lineage: { run: 'pack-version (test helper)' } });
}
