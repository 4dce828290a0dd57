/**
 * npm run bench:retrain [-- --sizes 1000,10000,100000 --repeats 3,3,3 --impl new|old|both]
 * Wall time of one retrain (quality checks, split, both training stages,
 * temperature, evaluation on the fixed set; no export) for N accepted
 * corrections, with where the time goes (each step's median seconds).
 * Corrections are synthetic: real embeddings of ../shared photos (10 Oxford
 * breeds ImageNet lacks as new taxa, 20 launch taxa from imagenet-samples)
 * with 10% multiplicative noise, 5 per install. Wall seconds on a shared
 * machine grow with everyone else's load; CPU seconds (all threads) do not.
 *
 * --impl new (default): the batch gradients through onnxruntime-node and the
 * full schedule at every size (40 new-taxa + 10 joint epochs, as `retrain`).
 * --impl old: the TypeScript kernel with the schedule that kept the old code
 * in time (fewer epochs as the data grows: 40 + 10, 4 + 1, 1 + 1).
 * --impl both: old and new on the same corrections, then the new head's
 * top-1 against the old one's, paired, with Newcombe's 95% interval, on the
 * shared-label photos, the new taxa's held-out installs and the validation split.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { retrain, type RetrainResult } from '../pipeline/retrain.ts';
import { embedPhotos } from '../pipeline/embed-cache.ts';
import { seededUuid } from '../core/random.ts';
import { seededRandom } from '../core/random.ts';
import { pairedCounts, pairedDifference } from '../core/intervals.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { normalizeProposedName } from '../core/telemetry-facts.ts';
import type { TrainingCorrection } from '../pipeline/quality.ts';
import type { TrainSettings } from '../pipeline/train-candidate.ts';
import { ensureModels } from '../node/ensure-built.ts';

type Impl = 'old' | 'new';
const program = new Command()
  .name('bench:retrain')
  .option('--sizes <list>', 'numbers of corrections', '1000,10000,100000')
  .option('--repeats <list>', 'runs per size', '3,3,3')
  .option('--impl <impl>', 'new (onnxruntime kernels, full epochs), old (TypeScript kernel, fewer epochs as data grows) or both, paired', 'new')
  .option('--threads <n>', 'onnxruntime threads', (v) => Number(v), 2)
  .parse();
const o = program.opts<{ sizes: string; repeats: string; impl: string; threads: number }>();
if (!['old', 'new', 'both'].includes(o.impl)) program.error(`--impl must be old, new or both, not ${o.impl}`);
ensureModels('the benchmark');
const sizes = o.sizes.split(',').map(Number);
const repeats = o.repeats.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) program.error(`--sizes must be positive whole numbers, not ${o.sizes}`);
const impls: Impl[] = o.impl === 'both' ? ['old', 'new'] : [o.impl as Impl];

/** Epochs and batch per size: the new code trains the full schedule at every size, as `retrain` does; the old one could not. */
const batchFor = (n: number) => (n <= 2000 ? 32 : n <= 20000 ? 64 : 256);
const schedule = (impl: Impl, n: number): Pick<TrainSettings, 'newTaxaEpochs' | 'epochs' | 'batchSize' | 'kernel'> =>
  impl === 'new'
    ? { newTaxaEpochs: 40, epochs: 10, kernel: 'ort' } // and retrain's default batch (defaultBatchSize)
    : { ...(n <= 2000 ? { newTaxaEpochs: 40, epochs: 10 } : n <= 20000 ? { newTaxaEpochs: 4, epochs: 1 } : { newTaxaEpochs: 1, epochs: 1 }), batchSize: batchFor(n), kernel: 'ts' };

const taxonomy = loadTaxonomy();
const oxford = readLabelledPhotos(path.join(DATA_DIR_SHARED, 'oxford-pets'), path.join(DATA_DIR_SHARED, 'oxford-pets', 'labels.csv'), taxonomy).filter((p) => p.imagenetIndex === null);
const samples = readLabelledPhotos(path.join(DATA_DIR_SHARED, 'imagenet-samples-animals'), path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'labels.csv'), taxonomy)
  .filter((p) => p.label !== 'other')
  .slice(0, 20);
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
    return {
      eventId: seededUuid(rand),
      correctsEventId: seededUuid(rand),
      installId: install,
      modelVersion: '1.0.0',
      label: pool.label,
      embedding: Float32Array.from(base, (v) => Math.max(0, v * (1 + 0.1 * gauss()))),
    };
  });
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const STEPS = ['photos', 'checks', 'plan', 'split', 'train', 'evaluate', 'gate', 'hits'] as const;
const TRAIN_PARTS = ['newTaxa', 'joint', 'gather', 'gradient', 'update'] as const;
const trainRows: string[] = [];
const rows: string[] = [];
const breakdown: string[] = [];
const quality: string[] = [];
const bar = new cliProgress.SingleBar({ format: 'bench {size} {impl} run {run} [{bar}] {stage}', stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
const out = mkdtempSync(path.join(os.tmpdir(), 'wildsight-bench-'));
const t0 = performance.now();
for (const [i, n] of sizes.entries()) {
  const runs = new Map<Impl, { times: number[]; cpu: number[]; results: RetrainResult[] }>(impls.map((impl) => [impl, { times: [], cpu: [], results: [] }]));
  for (let r = 0; r < (repeats[i] ?? 1); r++) {
    const corrections = synthetic(n, 100 + r);
    // Old and new alternate on the same corrections, so load on a shared machine hits both alike.
    for (const impl of impls) {
      bar.start(1, 0, { size: n, impl, run: r + 1, stage: '' });
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      const res = await retrain({
        corrections,
        register: false,
        outDir: out,
        maxSuspiciousShare: 1,
        keepHits: o.impl === 'both',
        threads: o.threads,
        log: () => {},
        progress: (stage, d, t) => {
          bar.setTotal(t);
          bar.update(d, { stage });
        },
        ...schedule(impl, n),
      });
      const run = runs.get(impl)!;
      run.times.push((performance.now() - start) / 1000);
      const cpu = process.cpuUsage(cpu0);
      run.cpu.push((cpu.user + cpu.system) / 1e6);
      run.results.push(res);
      bar.stop();
    }
  }
  for (const impl of impls) {
    const { times, cpu, results } = runs.get(impl)!;
    const s = schedule(impl, n);
    const step = (k: string) => median(results.map((res) => res.timings[k] ?? 0));
    rows.push(
      `| ${n.toLocaleString('en')} | ${impl} | ${times.length} | ${median(times).toFixed(1)} | ${Math.min(...times).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${median(cpu).toFixed(1)} | ${s.newTaxaEpochs} + ${s.epochs} | ${results[0].trainProfile?.batchSize ?? s.batchSize} |`,
    );
    const rest = median(results.map((res, k) => times[k] - STEPS.reduce((a, st) => a + (res.timings[st] ?? 0), 0)));
    const part = (k: (typeof TRAIN_PARTS)[number]) => median(results.map((res) => res.trainProfile?.[k] ?? 0));
    trainRows.push(`| ${n.toLocaleString('en')} | ${impl} | ${TRAIN_PARTS.map((k) => part(k).toFixed(1)).join(' | ')} |`);
    breakdown.push(`| ${n.toLocaleString('en')} | ${impl} | ${STEPS.map((st) => step(st).toFixed(1)).join(' | ')} | ${rest.toFixed(1)} |`);
  }
  if (impls.length === 2) {
    // Paired on the same examples: the same corrections, split and held-out installs on both sides (the last run).
    const a = runs.get('old')!.results.at(-1)!.hits!,
      b = runs.get('new')!.results.at(-1)!.hits!;
    for (const [name, x, y] of [
      ['shared-label photos', a.shared, b.shared],
      ['new taxa, held-out installs', a.heldOut, b.heldOut],
      ['validation split', a.validation, b.validation],
    ] as const) {
      const d = pairedDifference(pairedCounts(x, y));
      const pct = (v: number) => (v * 100).toFixed(2);
      quality.push(
        `| ${n.toLocaleString('en')} | ${name} | ${d.n} | ${pct(d.current)} | ${pct(d.candidate)} | ${(d.difference * 100).toFixed(2)} (${(d.lo * 100).toFixed(2)} to ${(d.hi * 100).toFixed(2)}) |`,
      );
    }
  }
}
rmSync(out, { recursive: true, force: true });
// CPU seconds (every thread of this process) do not grow when other processes share the cores, as wall time does.
console.log('| corrections | impl | runs | median s | min s | max s | median CPU s | epochs (new taxa + joint) | batch |');
console.log('|---:|---|---:|---:|---:|---:|---:|---|---:|');
for (const r of rows) console.log(r);
console.log(
  '\nWhere the time goes (median wall s per step: photos from the embedding cache, quality checks with the parent\'s view of every correction, new-taxa split, validation split, training and temperature, held-out new taxa, the gate, and with --impl both the paired answers; "other" is the rest: loading the parent, the report):\n',
);
console.log(`| corrections | impl | ${STEPS.join(' | ')} | other |`);
console.log(`|---:|---|${STEPS.map(() => '---:').join('|')}|---:|`);
for (const r of breakdown) console.log(r);
console.log(
  "\nInside train (median s): the new-taxa and joint stages; across both, gathering batches, the gradient kernel (the matrix products; with --impl new also gathering the batch's rows, which onnxruntime does natively) and the Adam updates:\n",
);
console.log('| corrections | impl | new-taxa stage | joint stage | gather | gradient | update |');
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const r of trainRows) console.log(r);
if (quality.length) {
  console.log('\nTop-1 of the trained head, old against new on the same examples (last run; points, Newcombe 95% interval):\n');
  console.log('| corrections | examples | n | old % | new % | new - old, points (95% CI) |');
  console.log('|---:|---|---:|---:|---:|---|');
  for (const r of quality) console.log(r);
}
console.log(
  `\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s on ${os.cpus().length} cores (load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(', ')})`,
);
