/**
 * npm run bench:new-taxa-settings [-- --seed N]
 *
 * The new-taxa training settings (each new class weighing 300 examples, L2
 * 0.3 toward its imprinted start) were picked while watching the new-taxa
 * scenario's breeds. This compares them, paired, with alternatives on data
 * apart from those breeds: the 6 Oxford-IIIT breeds ImageNet lacks that the
 * scenario does not use (5 photos each train, 5 are held out) and 6
 * Tiny-ImageNet classes that are not launch taxa (20 train, 80 held out),
 * one split each. For each setting: held-out recall of the new taxa and
 * top-1 on the shared-label photos (imagenet-val-animals without the pool's
 * classes), each paired against the shipped setting on the same photos,
 * with Newcombe's 95% interval and McNemar's test. The training is
 * `retrain`'s own (pipeline/train-candidate.ts, stage 1).
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { predictAll } from '../core/head-train.ts';
import { mcnemar, pairedCounts, pairedDifference } from '../core/intervals.ts';
import { seededRandom } from '../core/random.ts';
import { taxonSplits } from '../pipeline/taxon-splits.ts';
import { parseCsv } from '../core/csv.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { normalizeProposedName } from '../core/telemetry-facts.ts';
import { embedPhotos, type PhotoFeatures } from '../pipeline/embed-cache.ts';
import { loadParentHead } from '../pipeline/parent-head.ts';
import { BASE_PACKS, EVAL_PACK } from '../pipeline/retrain.ts';
import { scenarioBreeds } from '../pipeline/scenario.ts';
import { toExamples, trainCandidate, type Item, type TrainSettings } from '../pipeline/train-candidate.ts';
import { ensureModels } from '../node/ensure-built.ts';

const o = new Command()
  .name('bench:new-taxa-settings')
  .option('--seed <n>', 'split seed', (v) => Number(v), 1)
  .parse()
  .opts<{ seed: number }>();
ensureModels('the benchmark');

const SHIPPED = 'shipped: weight 300, L2 0.3';
const settings: Array<{ name: string; s: Partial<TrainSettings> }> = [
  { name: SHIPPED, s: { newTaxaWeight: 300, newTaxaLambda: 0.3 } },
  { name: 'unweighted (each example 1), L2 0.3', s: { newTaxaWeight: 1, newTaxaLambda: 0.3 } },
  { name: 'weight 300, no L2', s: { newTaxaWeight: 300, newTaxaLambda: 0 } },
  { name: 'weight 300, L2 3', s: { newTaxaWeight: 300, newTaxaLambda: 3 } },
  { name: 'weight 30, L2 0.3', s: { newTaxaWeight: 30, newTaxaLambda: 0.3 } },
];

const { taxonomy, base, prior, parentT, parentLabels, E } = loadParentHead();

// Pools apart from the scenario's breeds.
const oxDir = path.join(DATA_DIR_SHARED, 'oxford-pets');
const oxRows = parseCsv(readFileSync(path.join(oxDir, 'labels.csv'), 'utf8')).filter((r) => r.imagenet_index === '');
const scenario = new Set(scenarioBreeds().map((b) => b.breed));
const oxBreeds = [...new Set(oxRows.map((r) => r.breed))].filter((b) => !scenario.has(b)).sort();
const tinyDir = path.join(DATA_DIR_SHARED, 'tiny-imagenet-animals');
const tiny = readLabelledPhotos(tinyDir, path.join(tinyDir, 'labels.csv'), taxonomy).filter((p) => p.label === OTHER_LABEL);
const tinyClasses = [...new Set(tiny.map((p) => p.row.wnid))].sort().slice(0, 6);
const pools = [
  {
    name: `oxford, ${oxBreeds.length} breeds not in the scenario`,
    train: 5,
    heldOut: 5,
    taxa: oxBreeds.map((b) => ({
      id: normalizeProposedName(b.replace(/_/g, ' ')),
      breed: b,
      index: null as number | null,
      files: oxRows
        .filter((r) => r.breed === b)
        .map((r) => path.join(oxDir, r.file))
        .sort(),
    })),
  },
  {
    name: 'tiny-imagenet, 6 non-launch classes',
    train: 20,
    heldOut: 80,
    taxa: tinyClasses.map((w) => {
      const m = tiny.filter((p) => p.row.wnid === w);
      return { id: `proposed-${m[0].row.class_name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, breed: null, index: m[0].imagenetIndex, files: m.map((p) => p.file).sort() };
    }),
  },
];

const basePhotos = BASE_PACKS.flatMap((pack) => readLabelledPhotos(path.join(DATA_DIR_SHARED, pack), path.join(DATA_DIR_SHARED, pack, 'labels.csv'), taxonomy));
const evalPhotos = readLabelledPhotos(path.join(DATA_DIR_SHARED, EVAL_PACK), path.join(DATA_DIR_SHARED, EVAL_PACK, 'labels.csv'), taxonomy);
const classifier = await NodeClassifier.load({ threads: 2 });
const { features } = await embedPhotos(classifier, [...new Set([...basePhotos, ...evalPhotos].map((p) => p.file).concat(pools.flatMap((p) => p.taxa.flatMap((t) => t.files))))]);
await classifier.release();
const otherOf = (f: PhotoFeatures) => f.logits[f.logits.length - 1] * parentT;
const item = (f: PhotoFeatures, label: string, group: string): Item => ({ group, label, embedding: f.embedding, other: otherOf(f), source: 'x' });
const argmax = (p: Float32Array) => p.indexOf(Math.max(...p));

const lines = [
  '| pool | setting | held-out recall | change vs shipped, points (95% CI) | lost / gained | shared-label top-1 | change vs shipped, points (95% CI) |',
  '|---|---|---:|---|---|---:|---|',
];
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
for (const pool of pools) {
  const ids = pool.taxa.map((t) => t.id);
  const classIndex = new Map([...parentLabels, ...ids, OTHER_LABEL].map((l, i) => [l, i]));
  const breeds = new Set(pool.taxa.map((t) => t.breed).filter(Boolean));
  const indices = new Set(pool.taxa.map((t) => t.index).filter((x) => x !== null));
  const keep = (p: { imagenetIndex: number | null; row: Record<string, string> }) => !(p.imagenetIndex === null ? breeds.has(p.row.breed) : indices.has(p.imagenetIndex));
  const baseItems = basePhotos.filter(keep).flatMap((p) => {
    const f = features.get(p.file);
    return f ? [item(f, p.label, `photo:${f.photoSha256}`)] : [];
  });
  const shared = evalPhotos.filter(keep).flatMap((p) => {
    const f = features.get(p.file);
    return f ? [item(f, p.label, '')] : [];
  });
  const sharedEx = toExamples(shared, classIndex, E);
  const rand = seededRandom(o.seed);
  const splits = taxonSplits(pool.taxa, (f) => features.has(f), rand, pool.heldOut, pool.train);
  const heldEx = toExamples(
    splits.flatMap((s) => s.heldOut.map((f) => item(features.get(f)!, s.id, ''))),
    classIndex,
    E,
  );
  const corr = splits.flatMap((s) => s.train.map((f, i) => item(features.get(f)!, s.id, `install:${s.id}:${i}`)));
  const results = new Map<string, { held: boolean[]; shared: boolean[] }>();
  for (const st of settings) {
    const { head } = await trainCandidate(prior, base, parentLabels, ids, [...baseItems, ...corr], { epochs: 0, seed: o.seed, ...st.s });
    results.set(st.name, {
      held: predictAll(head, heldEx, parentT).map((p, i) => argmax(p) === heldEx.y[i]),
      shared: predictAll(head, sharedEx, parentT).map((p, i) => argmax(p) === sharedEx.y[i]),
    });
  }
  const ref = results.get(SHIPPED)!;
  for (const st of settings) {
    const r = results.get(st.name)!;
    const h = pairedCounts(ref.held, r.held),
      s = pairedCounts(ref.shared, r.shared);
    const dh = pairedDifference(h),
      ds = pairedDifference(s),
      mh = mcnemar(h.onlyCurrent, h.onlyCandidate);
    const same = st.name === SHIPPED;
    lines.push(
      `| ${pool.name} (${heldEx.n} held out) | ${st.name} | ${(dh.candidate * 100).toFixed(1)}% | ${same ? '–' : `${pts(dh.difference)} (${pts(dh.lo)} to ${pts(dh.hi)})`} | ${same ? '–' : `${mh.losses} / ${mh.gains}, p = ${mh.p.toPrecision(2)}`} | ${(ds.candidate * 100).toFixed(1)}% | ${same ? '–' : `${pts(ds.difference)} (${pts(ds.lo)} to ${pts(ds.hi)})`} |`,
    );
  }
}
console.log(lines.join('\n'));
