/**
 * The species packs' ONNX files: the iNaturalist TFLite classifiers in
 * ../shared/models/inat (and the ImageNet reference, kept to prove the
 * converter) converted by ./to-onnx into <registry>/packs/<id>/ (built, not
 * committed), each with info.json saying how to feed and read it. Beside the
 * registry so a build into another registry (WILDSIGHT_REGISTRY, --registry)
 * never writes into the checkout's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REGISTRY_DIR, SHARED_DIR } from '../paths.ts';
import { sha256 } from '../registry.ts';
import { verifyAssets } from '../shared-assets.ts';
import { convertTflite, type ConvertedInfo } from './to-onnx.ts';
import type { SpeciesPack } from '../../core/manifest.ts';
import type { InputSpec } from '../../core/preprocess.ts';

export const INAT_DIR = path.join(SHARED_DIR, 'models', 'inat');
export const packsDir = (registry = REGISTRY_DIR) => path.join(registry, 'packs');
export const PACKS_DIR = packsDir();

/** product: the pack is offered in the app, for photos of routeClass. */
export interface PackSource {
  id: string;
  file: string;
  labels: string;
  product?: { title: string; routeClass: string };
}

export const PACK_SOURCES: readonly PackSource[] = [
  { id: 'inat-birds', file: 'mobilenet_v2_1.0_224_inat_bird_quant.tflite', labels: 'inat_bird_labels.txt', product: { title: 'Birds', routeClass: 'Aves' } },
  { id: 'inat-insects', file: 'mobilenet_v2_1.0_224_inat_insect_quant.tflite', labels: 'inat_insect_labels.txt', product: { title: 'Insects', routeClass: 'Insecta' } },
  // Not a product model: the reference every converter and engine is checked on.
  { id: 'imagenet-reference', file: 'mobilenet_v2_1.0_224_quant.tflite', labels: 'imagenet_labels.txt' },
];

export interface PackInfo extends ConvertedInfo {
  id: string;
  file: string;
  sha256: string;
  bytes: number;
  source: { file: string; sha256: string; license: string };
  labels: string[];
}

export const packModelFile = (id: string, dir = PACKS_DIR) => path.join(dir, id, 'model.onnx');
export const packInfoFile = (id: string, dir = PACKS_DIR) => path.join(dir, id, 'info.json');

/** Converts every pack source (checked against SHA256SUMS first) into `dir`; returns what was written. */
export function buildPacks(dir = PACKS_DIR, onPack?: (info: PackInfo) => void): PackInfo[] {
  verifyAssets(
    INAT_DIR,
    PACK_SOURCES.flatMap((s) => [s.file, s.labels]),
  );
  return PACK_SOURCES.map((src) => {
    const tflite = readFileSync(path.join(INAT_DIR, src.file));
    const { onnx, info } = convertTflite(tflite, { name: src.id });
    const labels = readFileSync(path.join(INAT_DIR, src.labels), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (labels.length !== info.outputs.classes) throw new Error(`${src.labels} has ${labels.length} labels for the ${info.outputs.classes} classes of ${src.file}`);
    mkdirSync(path.join(dir, src.id), { recursive: true });
    writeFileSync(packModelFile(src.id, dir), onnx);
    const pack: PackInfo = {
      id: src.id,
      file: `${src.id}/model.onnx`,
      sha256: sha256(onnx),
      bytes: onnx.length,
      source: { file: src.file, sha256: sha256(tflite), license: 'Apache-2.0 (google-coral/test_data; see ../shared/models/inat/LICENSE)' },
      labels,
      ...info,
    };
    writeFileSync(packInfoFile(src.id, dir), `${JSON.stringify(pack, null, 2)}\n`);
    onPack?.(pack);
    return pack;
  });
}

export function readPackInfo(id: string, dir = PACKS_DIR): PackInfo {
  return JSON.parse(readFileSync(packInfoFile(id, dir), 'utf8')) as PackInfo;
}

/** Version of the packs as converted from ../shared/models/inat; a retrained head would be the next one. */
export const PACK_VERSION = '1.0.0';

/**
 * How the packs are fed: the shorter side resized to 224 and the centre
 * square cut ('center'), rather than the whole photo squashed to 224x224
 * ('full'). Measured on every labelled photo whose species a pack knows
 * (`npm run eval -- --model <pack> --crop center|full --no-router`): birds
 * 49/59 vs 48/59 top-1, insects 91/108 both (mostly square photos, where the
 * two are the same): no real difference, so the convention the base model
 * also follows. README "Species packs in the product" has the figures.
 */
export const PACK_CROP: InputSpec['crop'] = 'center';

/**
 * The registry entry (kind "pack") of a product pack. Rebuilding identical
 * bytes keeps the previous creation time, so the committed manifest only
 * changes when a pack does.
 */
export function packEntry(info: PackInfo, previous?: SpeciesPack): SpeciesPack {
  const src = PACK_SOURCES.find((s) => s.id === info.id);
  if (!src?.product) throw new Error(`${info.id} is not a product pack`);
  const { scale, mean, std } = info.preprocessing;
  const input = {
    name: info.input.name,
    size: info.input.size,
    resizeShorter: info.input.size,
    crop: PACK_CROP,
    mean: [mean[0], mean[1], mean[2]] as [number, number, number],
    std: [std[0], std[1], std[2]] as [number, number, number],
    layout: 'NCHW' as const,
    channels: 'RGB' as const,
    scale,
    maxBatch: null,
  };
  const entry: SpeciesPack = {
    kind: 'pack',
    id: info.id,
    version: PACK_VERSION,
    title: src.product.title,
    routeClass: src.product.routeClass,
    file: `packs/${info.file}`,
    sha256: info.sha256,
    bytes: info.bytes,
    input,
    outputs: { logits: info.outputs.logits, classes: info.outputs.classes, embedding: info.outputs.embedding, embeddingSize: info.outputs.embeddingSize },
    labels: info.labels,
    status: 'active',
    source: info.source,
    createdAt: new Date().toISOString(),
  };
  const same = previous && previous.sha256 === entry.sha256 && JSON.stringify({ ...previous, createdAt: '' }) === JSON.stringify({ ...entry, createdAt: '' });
  return same ? previous : entry;
}
