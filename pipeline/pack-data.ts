/**
 * A pack retrain's data: the accepted corrections of that pack's answers
 * (same acceptance rules as the base model's, pipeline/feedback-input.ts)
 * made on the parent pack version and naming one of its species, and the
 * gate photos: labelled photos whose label the pack knows (one of its
 * species by models/pack-label-map.json, or its background class for animals
 * outside its class), run through the parent pack (embeddings cached on disk
 * by embed-cache, per pack sha256).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packGateLabel, type PackLabelMap } from '../core/pack-eval.ts';
import { PACK_BACKGROUND, packTaxa, speciesId, type SpeciesPack } from '../core/species-pack.ts';
import type { Taxonomy } from '../core/taxonomy.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodePack } from '../node/pack-classifier.ts';
import { DATA_DIR_SHARED, MODELS_DIR } from '../node/paths.ts';
import { loadTaxonomy } from '../node/registry.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { acceptedCorrections } from './feedback-input.ts';
import { embedPhotos, type Embedder, type PhotoFeatures } from './embed-cache.ts';
import type { TrainingCorrection } from './quality.ts';

/**
 * The gate's labelled sets. Not imagenet-samples-animals: those photos may have been in ImageNet training
 * (../shared/data/README.md), and `scenario pack-birds` draws its corrections from them.
 */
export const PACK_GATE_SETS = ['imagenet-val-animals', 'gcompris-animals'] as const;

export const PACK_LABEL_MAP_FILE = path.join(MODELS_DIR, 'pack-label-map.json');
export const readPackLabelMap = (): PackLabelMap => JSON.parse(readFileSync(PACK_LABEL_MAP_FILE, 'utf8')) as PackLabelMap;

/** The pack's row labels: each species' taxon id (its scientific-name slug), and `background` for that class. */
export function packRowLabels(pack: Pick<SpeciesPack, 'labels' | 'routeClass'>): string[] {
  return packTaxa(pack).map((t) => t?.id ?? PACK_BACKGROUND);
}

export interface PackCorrectionCounts {
  /** Accepted, grounded, counted corrections that carried this pack. */
  ofPack: number;
  /** Of those, made on another version of the pack (their embeddings come from another head's view; the backbone is the same, but the run is of one version). */
  otherVersion: number;
  /** Naming a taxon that is not one of the pack's species (a launch taxon, a proposed name). */
  notPackSpecies: number;
}

/** Launch taxa that are one of the pack's species (by scientific name): launch id -> the pack's row label. */
export function packRowsOfLaunchTaxa(launch: Taxonomy, species: ReadonlySet<string>): Map<string, string> {
  return new Map(launch.taxa.flatMap((t) => (t.rank === 'species' && t.scientificName && species.has(speciesId(t.scientificName)) ? [[t.id, speciesId(t.scientificName)] as const] : [])));
}

/** Accepted corrections of `pack`'s answers on this version, naming one of its species (by its own id or a launch taxon of the same species), as training corrections. */
export async function collectPackCorrections(store: FeedbackStore, pack: SpeciesPack): Promise<{ corrections: TrainingCorrection[]; counts: PackCorrectionCounts }> {
  const species = new Set(packRowLabels(pack).filter((l) => l !== PACK_BACKGROUND));
  // The picker lists a species that is also a launch taxon under its launch id (house-finch, not
  // haemorhous-mexicanus): the same species, so it teaches the pack's row too.
  const packRowOf = packRowsOfLaunchTaxa(loadTaxonomy(), species);
  const counts: PackCorrectionCounts = { ofPack: 0, otherVersion: 0, notPackSpecies: 0 };
  const corrections: TrainingCorrection[] = [];
  for await (const c of acceptedCorrections(store)) {
    if (!c.pack || c.pack.id !== pack.id) continue;
    counts.ofPack++;
    if (c.pack.version !== pack.version) counts.otherVersion++;
    else if (!c.taxonId || !(species.has(c.taxonId) || packRowOf.has(c.taxonId))) counts.notPackSpecies++;
    else
      corrections.push({
        eventId: c.eventId,
        correctsEventId: c.correctsEventId,
        installId: c.installId,
        // Checked by the quality checks against the parent: the pack version, not the base model's.
        modelVersion: c.pack.version,
        label: packRowOf.get(c.taxonId) ?? c.taxonId,
        embedding: Float32Array.from(c.pack.embedding),
      });
  }
  return { corrections, counts };
}

/** A loaded pack as embed-cache's embedder: its entry is the model (sha256, labels, input, outputs). */
export function packEmbedder(p: NodePack): Embedder {
  return { model: p.pack, tensorFor: (bytes, name) => p.tensorFor(bytes, name), run: (batch, n) => p.runBatch(batch, n) };
}

export interface GatePhoto {
  file: string;
  /** A row label of the pack: a species' taxon id, or background. */
  label: string;
  features: PhotoFeatures;
}

/** The gate photos with the parent pack's embedding and logits. */
export async function packGatePhotos(opts: {
  pack: SpeciesPack;
  registryDir: string;
  threads: number;
  log: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}): Promise<GatePhoto[]> {
  const { pack } = opts;
  const map = readPackLabelMap();
  const taxonomy = loadTaxonomy();
  const idOf = new Map(packTaxa(pack).flatMap((t) => (t ? [[t.scientificName, t.id] as const] : [])));
  const photos = PACK_GATE_SETS.flatMap((set) =>
    readLabelledPhotos(path.join(DATA_DIR_SHARED, set), path.join(DATA_DIR_SHARED, set, 'labels.csv'), taxonomy).flatMap((p) => {
      const want = packGateLabel(map, pack, p.imagenetIndex);
      const label = want === 'background' ? PACK_BACKGROUND : want && idOf.get(want);
      return label ? [{ file: p.file, label }] : [];
    }),
  );
  const loaded = await NodePack.load(pack.id, { registryDir: opts.registryDir, version: pack.version, threads: opts.threads });
  const { features, stats } = await embedPhotos(
    packEmbedder(loaded),
    photos.map((p) => p.file),
    { onProgress: (d) => opts.progress?.('gate photos', d, photos.length) },
  );
  await loaded.release();
  opts.log(`gate photos through ${pack.id} ${pack.version}: ${stats.cached} cached, ${stats.computed} computed, ${stats.failed.length} unreadable`);
  return photos.flatMap((p) => {
    const f = features.get(p.file);
    return f ? [{ ...p, features: f }] : [];
  });
}
