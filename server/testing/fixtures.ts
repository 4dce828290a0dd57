/** Events and photos for the server tests, built from the repo's real taxonomy and manifest. */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { readManifest, loadTaxonomy } from '../../node/registry.ts';
import { REGISTRY_DIR, TAXONOMY_FILE } from '../../node/paths.ts';
import { packKey, truncateToHour, type CorrectionEvent, type IdentificationEvent, type ValidationContext } from '../../core/telemetry.ts';

const manifest = readManifest(REGISTRY_DIR);
if (!manifest) throw new Error(`no model manifest in ${REGISTRY_DIR}; the server tests need models/registry/manifest.json`);
export const MANIFEST = manifest;
export const TAXON_IDS = loadTaxonomy(TAXONOMY_FILE).taxa.map((t) => t.id);
export const EMBEDDING_SIZE = manifest.versions.find((v) => v.version === manifest.active)!.outputs.embeddingSize;

export const validationContext = (): ValidationContext => ({
  taxonIds: new Set(TAXON_IDS),
  embeddingSizes: new Map(manifest.versions.map((v) => [v.version, v.outputs.embeddingSize])),
  packEmbeddingSizes: new Map((manifest.packs ?? []).flatMap((p) => (p.outputs.embeddingSize ? [[packKey(p.id, p.version), p.outputs.embeddingSize] as const] : []))),
});

export const INSTALL_ID = randomUUID();

export function identification(over: Partial<IdentificationEvent> = {}): IdentificationEvent {
  return {
    type: 'identification',
    eventId: randomUUID(),
    installId: INSTALL_ID,
    modelVersion: manifest!.active,
    backend: 'wasm',
    timings: { decodeMs: 4.2, preprocessMs: 6.1, inferenceMs: 48.5, totalMs: 60 },
    top5: [
      { taxonId: TAXON_IDS[0], p: 0.62 },
      { taxonId: TAXON_IDS[1], p: 0.21 },
      { taxonId: TAXON_IDS[2], p: 0.05 },
    ],
    otherProbability: 0.08,
    abstain: false,
    appVersion: '0.1.0',
    hour: truncateToHour(Date.now()),
    ...over,
  };
}

/** Values a float32 keeps exactly would hide a float64 round trip bug; these do not. */
export const embedding = (n = EMBEDDING_SIZE, seed = 1) => Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i) * 3.3);

export function correction(over: Partial<CorrectionEvent> = {}): CorrectionEvent {
  return {
    type: 'correction',
    eventId: randomUUID(),
    installId: INSTALL_ID,
    correctsEventId: randomUUID(),
    verdict: 'corrected',
    taxonId: TAXON_IDS[5],
    modelVersion: manifest!.active,
    embedding: embedding(),
    appVersion: '0.1.0',
    hour: truncateToHour(Date.now()),
    ...over,
  };
}

export const cleanJpeg = (width = 96, height = 64) =>
  sharp({ create: { width, height, channels: 3, background: '#3a6b4c' } })
    .jpeg({ quality: 80 })
    .toBuffer();

/** What a phone camera writes: an APP1 Exif segment (here with GPS position). */
export const exifJpeg = (width = 96, height = 64) =>
  sharp({ create: { width, height, channels: 3, background: '#3a6b4c' } })
    .withExif({ IFD0: { Make: 'TestCam', Model: 'T1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .jpeg({ quality: 80 })
    .toBuffer();
