/** npm run classify -- FILE... — top-5 species for photos, with onnxruntime-node and core/. */
import { Command } from 'commander';
import { NodeClassifier } from '../node/node-classifier.ts';
import { ensureModels } from '../node/ensure-built.ts';

const program = new Command()
  .name('classify')
  .description('Print the top-5 species for each photo')
  .argument('<files...>', 'photos to identify')
  .option('--model <version>', 'model version (default: the active one)')
  .option('--json', 'print one JSON line per photo')
  .parse();
const opts = program.opts<{ model?: string; json?: boolean }>();
ensureModels('classify');

const classifier = await NodeClassifier.load({ version: opts.model });
let failed = 0;
for (const file of program.args) {
  try {
    const { prediction, inferenceMs } = await classifier.classifyFile(file);
    if (opts.json) {
      console.log(JSON.stringify({ file, model: classifier.model.version, ...prediction, inferenceMs }));
      continue;
    }
    console.log(`${file}  (model ${classifier.model.version}, ${inferenceMs.toFixed(1)} ms)`);
    console.log(`  ${prediction.summary}`);
    for (const s of prediction.top5) {
      console.log(`  ${(s.probability * 100).toFixed(1).padStart(5)}%  ${s.commonName} (${s.scientificName}, ${s.rank})`);
    }
    console.log(`  ${(prediction.otherProbability * 100).toFixed(1).padStart(5)}%  not one of our species`);
  } catch (err) {
    failed++;
    console.error(`${file}: ${(err as Error).message}`);
  }
}
await classifier.release();
process.exitCode = failed ? 1 : 0;
