/**
 * A second version of a species pack, for the pack rollout tests, until the
 * pipeline's registerPackVersion (node/pack-registry.ts, another branch)
 * writes retrained ones: the pack's own model.onnx with its head changed
 * (the classifier's bias, the last int32 initializer with one value per
 * class, nudged by one step in its first value: a real, loadable graph
 * whose answers barely differ and whose sha256 does), written into `registryDir` as
 * packs/<id>/<version>/model.onnx and listed in that folder's manifest as a
 * candidate. The one place the tests make pack versions.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SpeciesPack } from '../../core/manifest.ts';
import { DataType, decodeModel, encodeModel } from '../../node/onnx-graph.ts';
import { readManifest, sha256, writeManifest } from '../../node/registry.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';

export function addPackVersion(registryDir: string, id: string, version = '1.0.1', from = REGISTRY_DIR): SpeciesPack {
  const manifest = readManifest(registryDir);
  const source = readManifest(from)?.packs?.find((p) => p.id === id && p.status === 'active');
  if (!manifest || !source) throw new Error(`no active species pack ${id} in ${from} to make version ${version} from (run npm run models:build)`);
  const model = decodeModel(new Uint8Array(readFileSync(path.join(from, source.file))));
  const head = model.graph!.initializer!.findLast((t) => t.dataType === DataType.INT32 && t.dims?.length === 1 && Number(t.dims[0]) === source.outputs.classes);
  if (!head?.rawData?.length) throw new Error(`species pack ${id} has no int32 bias of ${source.outputs.classes} raw values to change`);
  head.rawData = Uint8Array.from(head.rawData);
  head.rawData[0] ^= 1;
  const bytes = encodeModel(model);
  const file = `packs/${id}/${version}/model.onnx`;
  mkdirSync(path.dirname(path.join(registryDir, file)), { recursive: true });
  writeFileSync(path.join(registryDir, file), bytes);
  const entry: SpeciesPack = { ...source, version, file, sha256: sha256(bytes), bytes: bytes.length, status: 'candidate', createdAt: new Date().toISOString() };
  writeManifest({ ...manifest, packs: [...(manifest.packs ?? []).filter((p) => !(p.id === id && p.version === version)), entry] }, registryDir);
  return entry;
}
