/**
 * npm run eval -- --runtime node|browser --images DIR --labels CSV [--model VERSION]
 * Scores a labelled photo folder and prints one JSON line.
 * --observation-size 1,2,3 and --mirror (Node runtime) print instead the
 * fusion table and the paired mirror comparison (node/observation-report.ts).
 * With --location right|wrong|none (Node runtime), prints the location
 * prior's table first: top-1 with each photo given a location from its
 * taxon's range, from outside it, or none, paired against none.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { summarize, type ScoredPhoto } from '../core/eval-score.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { readLabelledPhotos, type LabelledPhoto } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { ensureApp, ensureModels } from '../node/ensure-built.ts';
import { MAX_OBSERVATION_PHOTOS } from '../core/fusion.ts';
import { viewLogits } from '../node/view-logits.ts';
import { formatMirror, formatObservationTable, mirrorReport, observationTable } from '../node/observation-report.ts';
import type { LocationMode } from '../core/location-eval.ts';
import { evalPack, isPackId } from './eval-pack.ts';

const program = new Command()
  .name('eval')
  .description('Score a labelled photo folder (labels.csv with file,imagenet_index,...)')
  .addOption(new Option('--runtime <runtime>', 'where the model runs').choices(['node', 'browser']).default('node'))
  .option('--images <dir>', 'photo folder', path.join(DATA_DIR_SHARED, 'imagenet-val-animals'))
  .option('--labels <csv>', 'labels file (default: DIR/labels.csv)')
  .option('--model <version>', 'model version (default: the active one), or a species pack id (inat-birds, inat-insects): species and router scores')
  .option('--no-router', 'pack only: skip the router figures (the base model on every photo)')
  .addOption(new Option('--crop <crop>', 'pack only: score with this resize instead of the registered one').choices(['center', 'full']))
  .option('--predictions <file>', "also write every photo's prediction as JSON lines")
  .option('--backend <backend>', 'browser only: wasm or webgpu (default: what the app picks)')
  .option('--observation-size <sizes>', 'node only: top-1 of observations of this many same-class photos, fused (e.g. 1,2,3)', parseSizes)
  .option('--rounds <n>', 'with --observation-size: seeded random groupings per size', (v) => positiveInt(v, '--rounds'), 200)
  .option('--seed <n>', 'with --observation-size or --location: seed of the groupings or of the location draws', (v) => positiveInt(v, '--seed'), 1)
  .option('--mirror', "node only: each photo alone against the mean of its and its mirror image's logits, paired")
  .addOption(
    new Option('--location <mode>', "node only: apply the location prior with a location drawn from each taxon's range (right), from outside it (wrong), or none; prints the paired table").choices([
      'right',
      'wrong',
      'none',
    ]),
  )
  .parse();
const opts = program.opts<{
  runtime: 'node' | 'browser';
  images: string;
  labels?: string;
  model?: string;
  predictions?: string;
  backend?: string;
  observationSize?: number[];
  rounds: number;
  seed: number;
  mirror?: boolean;
  location?: LocationMode;
  crop?: 'center' | 'full';
  router: boolean;
}>();
if (opts.location && opts.runtime !== 'node') {
  console.error("eval: --location needs --runtime node (it reweights every label's probability, which the app does not hand out)");
  process.exit(2);
}
// The browser runtime drives the built app; the Node one only needs the models.
if (opts.runtime === 'browser') ensureApp('eval');
else ensureModels('eval');

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1, got "${v}"`);
  return n;
}

function parseSizes(v: string): number[] {
  const sizes = v.split(',').map((x) => positiveInt(x.trim(), '--observation-size'));
  if (sizes.some((n) => n > MAX_OBSERVATION_PHOTOS)) throw new InvalidArgumentError(`an observation holds at most ${MAX_OBSERVATION_PHOTOS} photos`);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const viewMode = !!(opts.observationSize || opts.mirror);
if (viewMode && opts.runtime !== 'node') program.error('--observation-size and --mirror run on the node runtime');

if (isPackId(opts.model)) {
  // A pack is scored on every labelled set unless --images names one (the default folder is the base model's).
  const images = program.getOptionValueSource('images') === 'cli' ? opts.images : undefined;
  console.log(JSON.stringify(await evalPack({ model: opts.model!, images, labels: opts.labels, crop: opts.crop, router: opts.router })));
  process.exit(0);
}

const photos = readLabelledPhotos(opts.images, opts.labels ?? path.join(opts.images, 'labels.csv'), loadTaxonomy());
const bar = new cliProgress.SingleBar({ format: `eval ${opts.runtime} [{bar}] {value}/{total}`, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);

async function runNode(photos: LabelledPhoto[]): Promise<{ scored: ScoredPhoto[]; model: string; backend: string }> {
  const classifier = await NodeClassifier.load({ version: opts.model });
  const scored = await classifier.score(photos, { onEach: () => bar.increment(), onError: (file, err) => console.error(`${file}: ${err.message}`) });
  await classifier.release();
  return { scored, model: classifier.model.version, backend: 'onnxruntime-node-cpu' };
}

async function runBrowser(photos: LabelledPhoto[]) {
  const { classifyInBrowser } = await import('../harness/browser-runner.ts');
  return classifyInBrowser(photos, { model: opts.model, backend: opts.backend, onProgress: () => bar.increment() });
}

if (viewMode) {
  // Fusion and mirror figures come from the logits, computed once per photo.
  const classifier = await NodeClassifier.load({ version: opts.model });
  bar.start(photos.length, 0);
  const views = await viewLogits(classifier, photos, { mirror: !!opts.mirror, onEach: () => bar.increment(), onError: (file, err) => console.error(`${file}: ${err.message}`) });
  bar.stop();
  await classifier.release();
  const interpret = (l: Float32Array) => classifier.interpret(l);
  const out: Record<string, unknown> = { model: classifier.model.version, images: path.basename(opts.images), n: views.length, errors: photos.length - views.length };
  console.log(`model ${classifier.model.version}, ${path.basename(opts.images)}: ${views.length} photos`);
  if (opts.observationSize) {
    const rows = observationTable(views, opts.observationSize, interpret, { rounds: opts.rounds, seed: opts.seed });
    console.log(`\nObservations of same-class photos, fused (seed ${opts.seed}):\n\n${formatObservationTable(rows, opts.rounds)}\n`);
    out.observations = rows;
  }
  if (opts.mirror) {
    const m = mirrorReport(views, interpret);
    console.log(`\nMirror image as a second view:\n\n${formatMirror(m)}\n`);
    out.mirror = m;
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

if (opts.location) {
  const { runLocationEval } = await import('./eval-location.ts');
  await runLocationEval(photos, { mode: opts.location, seed: opts.seed, model: opts.model });
  process.exit(0);
}

bar.start(photos.length, 0);
const { scored, model, backend } = opts.runtime === 'node' ? await runNode(photos) : await runBrowser(photos);
bar.stop();
if (opts.predictions) writeFileSync(opts.predictions, scored.map((s) => JSON.stringify(s)).join('\n') + '\n');
console.log(JSON.stringify({ ...summarize(scored), runtime: opts.runtime, model, backend, errors: photos.length - scored.length }));
