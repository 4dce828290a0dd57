/**
 * npm run eval -- --runtime node|browser --images DIR --labels CSV [--model VERSION]
 * Scores a labelled photo folder and prints one JSON line.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { summarize, type ScoredPhoto } from '../core/eval-score.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { readLabelledPhotos, type LabelledPhoto } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { ensureApp, ensureModels } from '../node/ensure-built.ts';
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
  .option('--predictions <file>', 'also write every photo\'s prediction as JSON lines')
  .option('--backend <backend>', 'browser only: wasm or webgpu (default: what the app picks)')
  .parse();
const opts = program.opts<{ runtime: 'node' | 'browser'; images: string; labels?: string; model?: string; predictions?: string; backend?: string; crop?: 'center' | 'full'; router: boolean }>();
// The browser runtime drives the built app; the Node one only needs the models.
if (opts.runtime === 'browser') ensureApp('eval'); else ensureModels('eval');

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

bar.start(photos.length, 0);
const { scored, model, backend } = opts.runtime === 'node' ? await runNode(photos) : await runBrowser(photos);
bar.stop();
if (opts.predictions) writeFileSync(opts.predictions, scored.map((s) => JSON.stringify(s)).join('\n') + '\n');
console.log(JSON.stringify({ ...summarize(scored), runtime: opts.runtime, model, backend, errors: photos.length - scored.length }));
