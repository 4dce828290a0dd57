/**
 * A retraining run's data: accepted corrections from the feedback store, the
 * base labelled photos and the evaluation set, all through the parent's
 * backbone (embeddings cached on disk by embed-cache).
 */
import path from 'node:path';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { normalizeProposedName } from '../core/monitoring.ts';
import type { Taxonomy } from '../core/taxonomy.ts';
import { loadTaxonomy } from '../node/registry.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { acceptedCorrections } from './feedback-input.ts';
import { embedPhotos, type PhotoFeatures } from './embed-cache.ts';
import type { TrainingCorrection } from './quality.ts';

export const BASE_PACKS = ['imagenet-samples-animals', 'gcompris-animals', 'oxford-pets'] as const;
export const EVAL_PACK = 'imagenet-val-animals';

/**
 * A species a pack answered and the user confirmed or named from the pack's list retrains that
 * pack's head (retrain --pack), not the base model, where it would become a new base taxon. A
 * launch taxon or a proposed name stays the base model's, whoever answered.
 */
export function trainsBaseModel(c: { pack?: unknown; taxonId: string | null }, launchIds: ReadonlySet<string>): boolean {
  return !c.pack || c.taxonId === null || launchIds.has(c.taxonId) || c.taxonId.startsWith('proposed-');
}

export async function collectCorrections(store: FeedbackStore, launch: Taxonomy = loadTaxonomy()): Promise<{ corrections: TrainingCorrection[]; names: Record<string, string> }> {
  const corrections: TrainingCorrection[] = [];
  const names: Record<string, string> = {};
  const launchIds = new Set(launch.taxa.map((t) => t.id));
  for await (const c of acceptedCorrections(store)) {
    if (!trainsBaseModel(c, launchIds)) continue;
    const label = c.taxonId ?? normalizeProposedName(c.proposedName ?? '');
    if (!c.taxonId && c.proposedName) names[label] ??= c.proposedName;
    corrections.push({ eventId: c.eventId, correctsEventId: c.correctsEventId, installId: c.installId, modelVersion: c.modelVersion, label, embedding: Float32Array.from(c.embedding) });
  }
  return { corrections, names };
}

export interface BasePhoto {
  file: string;
  label: string;
  pack: string;
}
export interface EvalPhoto {
  file: string;
  label: string;
}

export interface PhotoData {
  basePhotos: BasePhoto[];
  /** Non-regression is judged on these photos only: every label is a launch taxon or "other", which both models know. */
  evalPhotos: EvalPhoto[];
  features: Map<string, PhotoFeatures>;
}

/** Base photos (less those of a taxon the corrections teach as new) and the evaluation set, embedded by the parent. */
export async function loadPhotoData(opts: {
  taxonomy: Taxonomy;
  registryDir: string;
  version: string;
  threads: number;
  tinyImagenet?: boolean;
  newLabels: ReadonlySet<string>;
  log: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}): Promise<PhotoData> {
  const { taxonomy } = opts;
  const classifier = await NodeClassifier.load({ registryDir: opts.registryDir, version: opts.version, threads: opts.threads });
  const packs = [...BASE_PACKS, ...(opts.tinyImagenet ? ['tiny-imagenet-animals'] : [])];
  const basePhotos = packs
    .flatMap((pack) => readLabelledPhotos(path.join(DATA_DIR_SHARED, pack), path.join(DATA_DIR_SHARED, pack, 'labels.csv'), taxonomy).map((p) => ({ ...p, pack })))
    // Photos of an animal the corrections teach as a new taxon are that taxon's, not "other": leave them out of the base set.
    .filter((p) => !(p.imagenetIndex === null && p.row.breed && opts.newLabels.has(normalizeProposedName(p.row.breed.replace(/_/g, ' ')))));
  const evalPhotos = readLabelledPhotos(path.join(DATA_DIR_SHARED, EVAL_PACK), path.join(DATA_DIR_SHARED, EVAL_PACK, 'labels.csv'), taxonomy).map((p) => ({ file: p.file, label: p.label }));
  const allFiles = [...basePhotos.map((p) => p.file), ...evalPhotos.map((p) => p.file)];
  const { features, stats } = await embedPhotos(classifier, allFiles, { onProgress: (d) => opts.progress?.('embed', d, allFiles.length) });
  await classifier.release();
  opts.log(`embeddings: ${stats.cached} cached, ${stats.computed} computed, ${stats.failed.length} unreadable`);
  return { basePhotos: basePhotos.map((p) => ({ file: p.file, label: p.label, pack: p.pack })), evalPhotos, features };
}
