/**
 * npm run bench:retrain [-- --sizes 1000,10000,100000 --repeats 3,2,1]
 * Wall time of one retrain (quality checks, split, both training stages,
 * temperature, evaluation on the fixed set; no export) for N accepted
 * corrections. Corrections are synthetic: real embeddings of ../shared
 * photos (10 Oxford breeds ImageNet lacks as new taxa, 20 launch taxa from
 * imagenet-samples) with 10% multiplicative noise, 5 per install. Epochs
 * shrink as the data grows (printed in the table) to keep the whole bench
 * under ~10 minutes on 2 cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { retrain } from '../pipeline/retrain.ts';
import { embedPhotos } from '../pipeline/embed-cache.ts';
import { seededUuid } from '../core/random.ts';
import { seededRandom } from '../core/random.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { normalizeProposedName } from '../core/telemetry-facts.ts';
import type { TrainingCorrection } from '../pipeline/quality.ts';
import { ensureModels } from '../node/ensure-built.ts';

const program = new Command().name('bench:retrain')
  .option('--sizes <list>', 'numbers of corrections', '1000,10000,100000')
  .option('--repeats <list>', 'runs per size', '3,2,1')
  .parse();
const o = program.opts<{ sizes: string; repeats: string }>();
ensureModels('the benchmark');
const sizes = o.sizes.split(',').map(Number);
const repeats = o.repeats.split(',').map(Number);

/** Epochs per size: full schedule at 1,000; fewer as the data grows. */
const schedule = (n: number) => (n <= 2000 ? { newTaxaEpochs: 40, epochs: 10, batchSize: 32 } : n <= 20000 ? { newTaxaEpochs: 4, epochs: 1, batchSize: 64 } : { newTaxaEpochs: 1, epochs: 1, batchSize: 256 });

const taxonomy = loadTaxonomy();
const oxford = readLabelledPhotos(path.join(DATA_DIR_SHARED, 'oxford-pets'), path.join(DATA_DIR_SHARED, 'oxford-pets', 'labels.csv'), taxonomy).filter((p) => p.imagenetIndex === null);
const samples = readLabelledPhotos(path.join(DATA_DIR_SHARED, 'imagenet-samples-animals'), path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'labels.csv'), taxonomy).filter((p) => p.label !== 'other').slice(0, 20);
const classifier = await NodeClassifier.load({ threads: 2 });
const { features } = await embedPhotos(classifier, [...oxford.map((p) => p.file), ...samples.map((p) => p.file)]);
await classifier.release();
const breeds = [...new Set(oxford.map((p) => p.row.breed))].sort().slice(0, 10);
const pools: Array<{ label: string; embeddings: Float32Array[] }> = [
  ...breeds.map((b) => ({ label: normalizeProposedName(b.replace(/_/g, ' ')), embeddings: oxford.filter((p) => p.row.breed === b).map((p) => features.get(p.file)!.embedding) })),
  ...samples.map((p) => ({ label: p.label, embeddings: [features.get(p.file)!.embedding] })),
];

function synthetic(n: number, seed: number): TrainingCorrection[] {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  let install = seededUuid(rand);
  return Array.from({ length: n }, (_, i) => {
    if (i % 5 === 0) install = seededUuid(rand);
    const pool = pools[i % pools.length];
    const base = pool.embeddings[Math.floor(rand() * pool.embeddings.length)];
    return { eventId: seededUuid(rand), correctsEventId: seededUuid(rand), installId: install, modelVersion: '1.0.0', label: pool.label, embedding: Float32Array.from(base, (v) => Math.max(0, v * (1 + 0.1 * gauss()))) };
  });
}

const rows: string[] = [];
const bar = new cliProgress.SingleBar({ format: 'bench {size} run {run} [{bar}] {stage}', stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
const out = mkdtempSync(path.join(os.tmpdir(), 'wildsight-bench-'));
const t0 = performance.now();
for (const [i, n] of sizes.entries()) {
  const times: number[] = [];
  const s = schedule(n);
  let trainSeconds = 0;
  for (let r = 0; r < (repeats[i] ?? 1); r++) {
    const corrections = synthetic(n, 100 + r);
    bar.start(1, 0, { size: n, run: r + 1, stage: '' });
    const start = performance.now();
    const res = await retrain({ corrections, register: false, outDir: out, maxSuspiciousShare: 1, log: () => {}, progress: (stage, d, t) => { bar.setTotal(t); bar.update(d, { stage }); }, ...s });
    times.push((performance.now() - start) / 1000);
    trainSeconds = res.trainSeconds;
    bar.stop();
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  rows.push(`| ${n.toLocaleString('en')} | ${times.length} | ${med.toFixed(1)} | ${times[0].toFixed(1)} | ${times.at(-1)!.toFixed(1)} | ${trainSeconds.toFixed(1)} | ${s.newTaxaEpochs} + ${s.epochs} | ${s.batchSize} |`);
}
rmSync(out, { recursive: true, force: true });
console.log('| corrections | runs | median s | min s | max s | training s (last run) | epochs (new taxa + joint) | batch |');
console.log('|---:|---:|---:|---:|---:|---:|---|---:|');
for (const r of rows) console.log(r);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s on ${os.cpus().length} cores`);
