/**
 * npm run models:build — builds the species model versions from the zoo
 * classifiers in ../shared into models/registry, chooses each version's
 * abstain threshold on labelled photos, and writes the manifest; then
 * converts the TFLite species packs in ../shared/models/inat to ONNX in
 * models/registry/packs (node/tflite).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { IMAGENET_INPUT } from '../core/preprocess.ts';
import { labelsText, type Manifest, type ModelVersion } from '../core/manifest.ts';
import { chooseAbstainThreshold, type AbstainSample } from '../core/abstain.ts';
import { indexTaxonomy, OTHER_LABEL } from '../core/taxonomy.ts';
import { BASES, buildSpeciesModel, EMBEDDING, LOGITS } from '../node/species-model.ts';
import { deriveFormat, type ModelFormat } from '../node/model-formats.ts';
import { verifyAssets } from '../node/shared-assets.ts';
import { loadTaxonomy, readManifest, sha256, writeManifest } from '../node/registry.ts';
import { DATA_DIR_SHARED, IMAGENET_DIR, REGISTRY_DIR } from '../node/paths.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { precompressFile, removeVariants } from '../node/precompress.ts';
import { readLabelledPhotos, type LabelledPhoto } from '../node/labelled-photos.ts';
import { buildPacks, PACK_SOURCES, packEntry, packsDir } from '../node/tflite/packs.ts';

/** The versions that exist from day one: the shipped default and its predecessor. */
const VERSIONS: Array<{ version: string; base: string; from?: { version: string; format: ModelFormat } }> = [
  { version: '1.0.0', base: 'mobilenetv2-12-int8' },
  { version: '0.9.0', base: 'shufflenet-v2-12-qdq' },
  // 1.0.0's own weights in the format `npm run bench:format` found faster on WASM
  // and not worse beyond noise (README "Benchmarks"). A candidate: it reaches
  // devices through a canary like any new version (README "Model rollout").
  // 1.0.1 is left alone: pipeline/parent.test.ts registers it in its copy.
  { version: '1.0.2', base: 'mobilenetv2-12-int8', from: { version: '1.0.0', format: 'int8-weights-folded' } },
];
const ACTIVE = '1.0.0';

/** Held apart from imagenet-val-animals, which is kept for evaluation only. */
const CALIBRATION_SETS = ['imagenet-samples-animals', 'gcompris-animals', 'oxford-pets'];

const program = new Command()
  .name('models:build')
  .description('Build the species model versions from ../shared/models/imagenet into the registry')
  .option('--registry <dir>', 'registry folder', REGISTRY_DIR)
  .option('--force', 'rebuild even when the registry is complete')
  .parse();
const opts = program.opts<{ registry: string; force?: boolean }>();

async function main() {
  const files = [...new Set(VERSIONS.map((v) => BASES[v.base].file)), 'synset.txt'];
  verifyAssets(IMAGENET_DIR, files);

  const taxonomy = loadTaxonomy();
  const taxa = indexTaxonomy(taxonomy);
  const synset = readFileSync(path.join(IMAGENET_DIR, 'synset.txt'), 'utf8').split('\n');
  for (const t of taxonomy.taxa) {
    if (t.imagenetIndex == null) continue;
    if (!synset[t.imagenetIndex]?.startsWith(t.wnid ?? '?')) throw new Error(`taxon ${t.id}: ImageNet index ${t.imagenetIndex} is ${synset[t.imagenetIndex]}, not ${t.wnid}`);
  }
  const launch = taxonomy.taxa.filter((t) => t.imagenetIndex != null);
  const labels = [...launch.map((t) => t.id), OTHER_LABEL];
  const labelsSha256 = sha256(labelsText(labels));

  const previous = readManifest(opts.registry);
  const calibration = CALIBRATION_SETS.flatMap((set) => readLabelledPhotos(path.join(DATA_DIR_SHARED, set), path.join(DATA_DIR_SHARED, set, 'labels.csv'), taxonomy));

  const versions: ModelVersion[] = [];
  const built = new Map<string, Uint8Array>();
  for (const { version, base, from } of VERSIONS) {
    const recipe = BASES[base];
    const baseBytes = readFileSync(path.join(IMAGENET_DIR, recipe.file));
    const bytes = from
      ? deriveFormat(built.get(from.version)!, from.format, version)
      : buildSpeciesModel(baseBytes, { recipe, speciesIndices: launch.map((t) => t.imagenetIndex!), version, labelsSha256 });
    built.set(version, bytes);
    const file = `${version}/model.onnx`;
    mkdirSync(path.join(opts.registry, version), { recursive: true });
    // Old compressed copies go before the new bytes land, so none can be sent for them.
    await removeVariants(path.join(opts.registry, file));
    writeFileSync(path.join(opts.registry, file), bytes);
    const draft: ModelVersion = {
      version,
      file,
      sha256: sha256(bytes),
      bytes: bytes.length,
      base: { name: recipe.name, file: recipe.file, sha256: sha256(baseBytes), license: recipe.license },
      input: { name: 'input', ...IMAGENET_INPUT, maxBatch: null },
      outputs: { logits: LOGITS, embedding: EMBEDDING, embeddingSize: recipe.embeddingSize },
      labels,
      labelsSha256,
      abstainThreshold: 0,
      taxonomyVersion: taxonomy.version,
      createdAt: new Date().toISOString(),
      ...(from ? { format: from.format, lineage: { parent: from.version } } : {}),
    };
    const classifier = await NodeClassifier.fromBytes(draft, bytes, taxa, 2);
    const samples = await abstainSamples(classifier, calibration, `calibrate ${version}`);
    await classifier.release();
    const choice = chooseAbstainThreshold(samples);
    draft.abstainThreshold = Number(choice.threshold.toFixed(4));
    draft.calibration = { dataset: CALIBRATION_SETS.join('+'), n: samples.length, objective: 'max balanced accuracy (launch named right, other declined)' };
    console.log(
      `${version} (${recipe.name}${from ? `, ${from.format}` : ''}): ${bytes.length} bytes, sha256 ${draft.sha256.slice(0, 12)}…, abstain below p=${draft.abstainThreshold} (launch ${pct(choice.launchAccuracy)}, other ${pct(choice.otherAccuracy)} on ${samples.length} calibration photos)`,
    );
    // Rebuilding identical bytes keeps the original creation time, so the committed manifest only changes when a model does.
    const same = previous?.versions.find((v) => v.version === version && v.sha256 === draft.sha256 && v.abstainThreshold === draft.abstainThreshold);
    versions.push(same ? { ...draft, createdAt: same.createdAt } : draft);
  }
  // The species packs: TFLite converted to ONNX (a few seconds each, so a bar), listed in the manifest as kind "pack".
  const bar = new cliProgress.SingleBar({ format: 'convert species packs [{bar}] {value}/{total} {pack}', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(PACK_SOURCES.length, 0, { pack: '' });
  const packs = buildPacks(packsDir(opts.registry), (p) => bar.increment({ pack: p.id }));
  bar.stop();
  for (const p of packs) console.log(`packs/${p.file}: ${p.bytes} bytes, ${p.outputs.classes} classes, from ${p.source.file} (sha256 ${p.sha256.slice(0, 12)}…)`);
  const packEntries = packs
    .filter((p) => PACK_SOURCES.find((s) => s.id === p.id)?.product)
    .map((p) =>
      packEntry(
        p,
        previous?.packs?.find((x) => x.id === p.id),
      ),
    );

  const manifest: Manifest = { schemaVersion: 1, active: previous?.active && versions.some((v) => v.version === previous.active) ? previous.active : ACTIVE, versions, packs: packEntries };
  writeManifest(manifest, opts.registry);
  // Compressed copies for the server to send (the manifest is compressed on request: it changes at run time).
  for (const v of versions) {
    const r = await precompressFile(path.join(opts.registry, v.file));
    console.log(`${v.file}: ${r.bytes} bytes, ${r.variants.map((x) => `${x.encoding} ${x.bytes}`).join(', ') || 'no smaller compressed copy'}`);
  }
  console.log(`registry written to ${opts.registry} (active ${manifest.active})`);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

async function abstainSamples(classifier: NodeClassifier, photos: LabelledPhoto[], title: string): Promise<AbstainSample[]> {
  const bar = new cliProgress.SingleBar({ format: `${title} [{bar}] {value}/{total} photos`, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(photos.length, 0);
  const samples: AbstainSample[] = [];
  for (const photo of photos) {
    try {
      const { prediction } = await classifier.classifyFile(photo.file);
      const top = prediction.top5[0];
      const otherWins = prediction.abstainReason === 'other';
      samples.push({ launch: photo.label !== OTHER_LABEL, correct: !otherWins && top.taxonId === photo.label, otherWins, topP: top.probability });
    } catch (err) {
      console.warn(`skipped ${photo.file}: ${(err as Error).message}`);
    }
    bar.increment();
  }
  bar.stop();
  return samples;
}

main().catch((err) => {
  console.error(`models:build failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
