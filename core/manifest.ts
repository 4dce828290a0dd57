/**
 * The model registry manifest (models/registry/manifest.json): what each
 * model version is, how to feed it and how to read its outputs. The browser,
 * the server and the pipeline all read it through this schema.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { OTHER_LABEL } from './taxonomy.ts';

import { SemverSchema as Semver } from './api/common.ts';
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const InputSpecSchema = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 1 }),
  resizeShorter: Type.Integer({ minimum: 1 }),
  crop: Type.Union([Type.Literal('center'), Type.Literal('full')]),
  mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
  std: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })]),
  layout: Type.Literal('NCHW'),
  channels: Type.Literal('RGB'),
  scale: Type.Number({ exclusiveMinimum: 0 }),
  /** Largest batch the graph accepts; null when the batch dimension is free. */
  maxBatch: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
});

const RankSchema = Type.Union(['species', 'genus', 'family', 'order', 'class', 'phylum'].map((r) => Type.Literal(r)));

/** A taxon a version knows beyond the launch taxonomy (added by retraining from accepted corrections). */
export const ExtraTaxonSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  commonName: Type.String({ minLength: 1 }),
  scientificName: Type.String(),
  rank: RankSchema,
  lineage: Type.Record(Type.String(), Type.String()),
  note: Type.Optional(Type.String()),
});

/** Where a version came from: its parent, the data it was trained on, the code that made it. */
export const LineageSchema = Type.Object({
  parent: Type.Optional(Semver),
  data: Type.Optional(Type.Record(Type.String(), Type.Number())),
  commit: Type.Optional(Type.String()),
  run: Type.Optional(Type.String()),
});

/**
 * A version that shares a backbone with an older one ships a head pack too
 * (core/head-pack.ts): a device holding the backbone's file downloads only
 * the pack and assembles the full file, whose sha256 is the version's.
 */
export const HeadPackSchema = Type.Object({
  /** Path of the pack relative to the registry folder. */
  file: Type.String(),
  sha256: Sha256,
  bytes: Type.Integer({ minimum: 1 }),
  /** The version whose model file the pack is applied to, and that file's sha256. */
  backbone: Type.Object({ version: Semver, sha256: Sha256 }),
});

export const ModelVersionSchema = Type.Object({
  version: Semver,
  /** Path of the ONNX file relative to the registry folder. */
  file: Type.String(),
  sha256: Sha256,
  bytes: Type.Integer({ minimum: 1 }),
  base: Type.Object({ name: Type.String(), file: Type.String(), sha256: Sha256, license: Type.String() }),
  input: InputSpecSchema,
  outputs: Type.Object({
    logits: Type.String(),
    embedding: Type.String(),
    embeddingSize: Type.Integer({ minimum: 1 }),
  }),
  labels: Type.Array(Type.String(), { minItems: 2 }),
  labelsSha256: Sha256,
  /** Top-1 probability below which the answer is "not one of our species"; chosen on data at build time. */
  abstainThreshold: Type.Number({ minimum: 0, maximum: 1 }),
  calibration: Type.Optional(Type.Object({ dataset: Type.String(), n: Type.Integer(), objective: Type.String() })),
  taxonomyVersion: Type.String(),
  /** Labels that are not launch taxa, described here so every client can name them. */
  extraTaxa: Type.Optional(Type.Array(ExtraTaxonSchema)),
  /** Evaluation figures recorded at registration (e.g. top1, top5, macroF1, ece on the evaluation set). */
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
  lineage: Type.Optional(LineageSchema),
  /**
   * How the weights are stored and which kernels run them (issue #14):
   * 'int8-qoperator' (int8 activations and kernels, what 1.0.0 ships),
   * 'int8-weights', 'fp16-weights' or 'fp32' (float activations and kernels).
   * Informational: every client runs any of them; absent means the file's own.
   */
  format: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
  /** Softmax temperature folded into the exported logits (1 when none). */
  temperature: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  headPack: Type.Optional(HeadPackSchema),
  createdAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T' }),
});

export const PACK_STATUSES = ['candidate', 'active', 'retired'] as const;

/** A species pack (core/species-pack.ts): a model of its own, run after the base model on photos of its class. */
export const SpeciesPackSchema = Type.Object({
  kind: Type.Literal('pack'),
  /** Stable id, e.g. "inat-birds"; taxon ids of the pack are prefixed by nothing (scientific-name slugs). */
  id: Type.String({ pattern: '^[a-z0-9-]+$' }),
  version: Semver,
  title: Type.String({ minLength: 1 }),
  /** The class whose photos this pack names (a taxonomy higher taxon: "Aves", "Insecta"). */
  routeClass: Type.String({ minLength: 1 }),
  /** Path of the ONNX file relative to the registry folder. */
  file: Type.String(),
  sha256: Sha256,
  bytes: Type.Integer({ minimum: 1 }),
  input: InputSpecSchema,
  outputs: Type.Object({
    logits: Type.String(),
    classes: Type.Integer({ minimum: 2 }),
    /** The 1280-d pooled features the pack's head reads: sent with a correction of the pack's answer, they retrain that head. Absent in older registries. */
    embedding: Type.Optional(Type.String()),
    embeddingSize: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  /** One per class, in output order: "Scientific name (Common name)" as the source labels give them, or "background". */
  labels: Type.Array(Type.String({ minLength: 1 }), { minItems: 2 }),
  status: Type.Union(PACK_STATUSES.map((s) => Type.Literal(s))),
  source: Type.Object({ file: Type.String(), sha256: Sha256, license: Type.String() }),
  createdAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T' }),
  /** A retrained head (`pipeline -- retrain --pack`, node/pack-registry.ts): the pack version it started from, its data, code and run. */
  lineage: Type.Optional(LineageSchema),
  /** Gate figures recorded at registration (e.g. top1 on the gate photos). */
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
});

export const ManifestSchema = Type.Object({
  schemaVersion: Type.Literal(1),
  active: Semver,
  versions: Type.Array(ModelVersionSchema, { minItems: 1 }),
  /** Species packs, written by models:build; a manifest without them is an older registry. */
  packs: Type.Optional(Type.Array(SpeciesPackSchema)),
});

export type ModelInput = Static<typeof InputSpecSchema>;
export type ModelVersion = Static<typeof ModelVersionSchema>;
export type Manifest = Static<typeof ManifestSchema>;
export type ExtraTaxon = Static<typeof ExtraTaxonSchema>;
export type HeadPack = Static<typeof HeadPackSchema>;
export type SpeciesPack = Static<typeof SpeciesPackSchema>;

/** The text whose sha256 is labelsSha256: one label a line, no trailing newline. */
export const labelsText = (labels: readonly string[]) => labels.join('\n');

/** Throws with every problem found; returns the manifest typed. */
export function validateManifest(data: unknown): Manifest {
  if (!Value.Check(ManifestSchema, data)) {
    const problems = [...Value.Errors(ManifestSchema, data)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new Error(`invalid model manifest: ${problems.join('; ')}`);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const v of data.versions) {
    if (seen.has(v.version)) problems.push(`version ${v.version} is listed twice`);
    seen.add(v.version);
    const labels = new Set(v.labels);
    if (labels.size !== v.labels.length) problems.push(`version ${v.version} has duplicate labels`);
    if (!labels.has(OTHER_LABEL)) problems.push(`version ${v.version} has no "${OTHER_LABEL}" label`);
  }
  if (!seen.has(data.active)) problems.push(`active version ${data.active} is not in the manifest`);
  if (problems.length) throw new Error(`invalid model manifest: ${problems.join('; ')}`);
  return data;
}

export function findVersion(manifest: Manifest, version?: string): ModelVersion {
  const want = version ?? manifest.active;
  const found = manifest.versions.find((v) => v.version === want);
  if (!found) throw new Error(`model version ${want} is not in the registry (have: ${manifest.versions.map((v) => v.version).join(', ')})`);
  return found;
}
