/**
 * Where training new taxa starts, read from one registry version: the heads
 * (the float head a retrained version carries, else the base model's launch
 * rows; the ImageNet head for base rows), the labels it already knows, its
 * temperature and embedding width. The learning curve (`pipeline curve`) and
 * `bench:new-taxa-settings` start from the same place, so they read it here.
 */
import type { Head } from '../core/head-train.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { loadTaxonomy, loadVersion } from '../node/registry.ts';
import { BaseHead } from './base-head.ts';
import { splicedHead } from './export.ts';

export function loadParentHead(version?: string, registryDir = REGISTRY_DIR) {
  const taxonomy = loadTaxonomy();
  const { model: parent, bytes } = loadVersion(version, registryDir);
  const base = new BaseHead(
    bytes,
    taxonomy.taxa.filter((t) => t.imagenetIndex != null).map((t) => t.imagenetIndex!),
  );
  const prior: Head = splicedHead(bytes) ?? base.launch;
  return {
    taxonomy,
    parent,
    base,
    prior,
    /** The parent's softmax temperature. */
    parentT: parent.temperature ?? 1,
    /** The parent's labels without "other". */
    parentLabels: parent.labels.filter((l) => l !== OTHER_LABEL),
    /** Embedding width. */
    E: parent.outputs.embeddingSize,
  };
}
