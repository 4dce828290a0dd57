/**
 * How many corrections does a new taxon need? `npm run pipeline -- curve`
 * trains the new-taxa rows (the same training as `retrain`) with 1, 2, 3, 5,
 * 10 and 20 corrections per new taxon, each from its own install, and scores
 * every taxon on installs held out of training; the split into training and
 * held-out installs is drawn again for every repeat. Two pools:
 *
 * - oxford: the 12 Oxford-IIIT breeds ImageNet lacks (genuinely new to the
 *   model), 10 photos each: 5 held out, so at most 5 to train.
 * - tiny: 6 Tiny-ImageNet classes that are not launch taxa (100 photos each):
 *   30 held out, up to 20 to train. The backbone learned these classes in
 *   ImageNet training, but the photos are 64 px, blown up to 224: two
 *   differences from a user's photo of a new animal that pull in opposite
 *   directions, so this pool shows the shape of the curve beyond 5, not a
 *   promise for any one species.
 *
 * Sizes within one repeat are nested (the 3 training photos include the 2),
 * so the sizes are compared on the same held-out installs.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { predictAll } from '../core/head-train.ts';
import { pairedCounts, pairedDifference, wilson } from '../core/intervals.ts';
import { seededRandom } from '../core/random.ts';
import { taxonSplits } from './taxon-splits.ts';
import { parseCsv } from '../core/csv.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED, REGISTRY_DIR } from '../node/paths.ts';
import { normalizeProposedName } from '../core/monitoring.ts';
import { embedPhotos, type PhotoFeatures } from './embed-cache.ts';
import { loadParentHead } from './parent-head.ts';
import { BASE_PACKS, EVAL_PACK } from './retrain.ts';
import { softmax, toExamples, trainCandidate, type Item } from './train-candidate.ts';
import type { CurveRow } from './report.ts';

export const CURVE_SIZES = [1, 2, 3, 5, 10, 20];

export interface CurveOptions {
  registryDir?: string;
  version?: string;
  sizes?: number[];
  repeats?: number;
  pools?: Array<'oxford' | 'tiny'>;
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}

interface Pool {
  name: string;
  heldOut: number;
  taxa: Array<{ id: string; files: string[]; imagenetIndex: number | null; breed: string | null }>;
}

function pools(which: Array<'oxford' | 'tiny'>): Pool[] {
  const out: Pool[] = [];
  if (which.includes('oxford')) {
    const dir = path.join(DATA_DIR_SHARED, 'oxford-pets');
    const rows = parseCsv(readFileSync(path.join(dir, 'labels.csv'), 'utf8')).filter((r) => r.imagenet_index === '');
    const breeds = [...new Set(rows.map((r) => r.breed))].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    out.push({
      name: 'oxford (new breeds)',
      heldOut: 5,
      taxa: breeds.map((breed) => ({
        id: normalizeProposedName(breed.replace(/_/g, ' ')),
        breed,
        imagenetIndex: null,
        files: rows
          .filter((r) => r.breed === breed)
          .map((r) => path.join(dir, r.file))
          .sort(),
      })),
    });
  }
  if (which.includes('tiny')) {
    const dir = path.join(DATA_DIR_SHARED, 'tiny-imagenet-animals');
    const photos = readLabelledPhotos(dir, path.join(dir, 'labels.csv'), loadTaxonomy()).filter((p) => p.label === OTHER_LABEL);
    const classes = [...new Set(photos.map((p) => p.row.wnid))].sort().slice(0, 6);
    out.push({
      name: 'tiny-imagenet (non-launch classes)',
      heldOut: 30,
      taxa: classes.map((wnid) => {
        const mine = photos.filter((p) => p.row.wnid === wnid);
        return { id: `proposed-${mine[0].row.class_name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, breed: null, imagenetIndex: mine[0].imagenetIndex, files: mine.map((p) => p.file).sort() };
      }),
    });
  }
  return out;
}

export async function runCurve(opts: CurveOptions = {}): Promise<CurveRow[]> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const registryDir = opts.registryDir ?? REGISTRY_DIR;
  const sizes = [...(opts.sizes ?? CURVE_SIZES)].sort((a, b) => a - b);
  const repeats = opts.repeats ?? 3;
  const seed = opts.seed ?? 1;
  const { taxonomy, parent, base, prior, parentT, parentLabels, E } = loadParentHead(opts.version, registryDir);
  const ps = pools(opts.pools ?? ['oxford', 'tiny']);

  const basePhotos = BASE_PACKS.flatMap((pack) => readLabelledPhotos(path.join(DATA_DIR_SHARED, pack), path.join(DATA_DIR_SHARED, pack, 'labels.csv'), taxonomy));
  const evalPhotos = readLabelledPhotos(path.join(DATA_DIR_SHARED, EVAL_PACK), path.join(DATA_DIR_SHARED, EVAL_PACK, 'labels.csv'), taxonomy);
  const files = [...new Set([...basePhotos, ...evalPhotos].map((p) => p.file).concat(ps.flatMap((p) => p.taxa.flatMap((t) => t.files))))];
  const classifier = await NodeClassifier.load({ registryDir, version: parent.version, threads: opts.threads ?? 2 });
  const { features, stats } = await embedPhotos(classifier, files, { onProgress: (d) => opts.progress?.('embed', d, files.length) });
  await classifier.release();
  log(`embeddings: ${stats.cached} cached, ${stats.computed} computed, ${stats.failed.length} unreadable`);
  const otherOf = (f: PhotoFeatures) => f.logits[f.logits.length - 1] * parentT;
  const item = (f: PhotoFeatures, label: string, group: string, source: string): Item => ({ group, label, embedding: f.embedding, other: otherOf(f), source });

  const plan = ps.map((pool) => ({ pool, sizes: sizes.filter((k) => k <= Math.min(...pool.taxa.map((t) => t.files.length)) - pool.heldOut) }));
  const total = repeats * plan.reduce((s, p) => s + p.sizes.length, 0);
  let done = 0;
  const rows: CurveRow[] = [];
  for (const { pool, sizes: poolSizes } of plan) {
    const ids = pool.taxa.map((t) => t.id);
    const classIndex = new Map([...parentLabels, ...ids, OTHER_LABEL].map((l, i) => [l, i]));
    // The pool's animals are no longer "other": their photos leave the base set and the shared-label evaluation.
    const breeds = new Set(pool.taxa.map((t) => t.breed).filter(Boolean));
    const indices = new Set(pool.taxa.map((t) => t.imagenetIndex).filter((x) => x !== null));
    const keep = (p: { imagenetIndex: number | null; row: Record<string, string> }) => !(p.imagenetIndex === null ? breeds.has(p.row.breed) : indices.has(p.imagenetIndex));
    const baseItems = basePhotos.filter(keep).flatMap((p) => {
      const f = features.get(p.file);
      return f ? [item(f, p.label, `photo:${f.photoSha256}`, 'base')] : [];
    });
    const shared = evalPhotos.filter(keep).flatMap((p) => {
      const f = features.get(p.file);
      return f ? [{ f, label: p.label }] : [];
    });
    const sharedEx = toExamples(
      shared.map((s) => item(s.f, s.label, '', 'eval')),
      classIndex,
      E,
    );
    const sharedY = shared.map((s) => classIndex.get(s.label)!);
    const currentHit = shared.map((s) => {
      const p = softmax(s.f.logits);
      return parent.labels[p.indexOf(Math.max(...p))] === s.label;
    });
    const perSize = new Map<number, Array<{ hits: number; n: number; change: number; lo: number; hi: number }>>();
    for (let r = 0; r < repeats; r++) {
      const rand = seededRandom(seed * 1000 + r);
      // Each photo is one install: shuffle, hold out the first `heldOut`, train on a prefix of the rest.
      const splits = taxonSplits(pool.taxa, (f) => features.has(f), rand, pool.heldOut);
      const heldItems = splits.flatMap((s) => s.heldOut.map((f) => item(features.get(f)!, s.id, '', 'held-out')));
      const heldEx = toExamples(heldItems, classIndex, E);
      for (const k of poolSizes) {
        const corr = splits.flatMap((s) => s.train.slice(0, k).map((f, i) => item(features.get(f)!, s.id, `install:${s.id}:${i}`, 'corrections')));
        const { head } = await trainCandidate(prior, base, parentLabels, ids, [...baseItems, ...corr], { epochs: 0, seed: seed + r });
        const held = predictAll(head, heldEx, parentT);
        const hits = held.filter((p, i) => p.indexOf(Math.max(...p)) === heldEx.y[i]).length;
        const cand = predictAll(head, sharedEx, parentT).map((p, i) => p.indexOf(Math.max(...p)) === sharedY[i]);
        const d = pairedDifference(pairedCounts(currentHit, cand));
        perSize.set(k, [...(perSize.get(k) ?? []), { hits, n: heldItems.length, change: d.difference, lo: d.lo, hi: d.hi }]);
        opts.progress?.('curve', ++done, total);
      }
    }
    for (const k of poolSizes) {
      const runs = perSize.get(k)!;
      const n = runs[0].n;
      const meanHits = runs.reduce((s, x) => s + x.hits, 0) / runs.length;
      // The interval uses one split's held-out count: repeats reuse the same photos, so pooling them would overstate n.
      const ci = wilson(meanHits, n);
      const recalls = runs.map((x) => x.hits / x.n);
      rows.push({
        pool: pool.name,
        size: k,
        repeats,
        taxa: pool.taxa.length,
        heldOutPerSplit: n,
        recall: meanHits / n,
        lo: ci.lo,
        hi: ci.hi,
        min: Math.min(...recalls),
        max: Math.max(...recalls),
        launchChange: runs.reduce((s, x) => s + x.change, 0) / runs.length,
        launchLo: Math.min(...runs.map((x) => x.lo)),
        launchHi: Math.max(...runs.map((x) => x.hi)),
      });
    }
  }
  return rows;
}

/** The table `curve` prints (markdown, so it can go into the README as it is). */
export function curveMarkdown(rows: readonly CurveRow[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
  return [
    '| pool | corrections per taxon | taxa x repeats | held-out per split | held-out recall (95% CI) | range over repeats | shared-label top-1 change, points (widest 95% CI) |',
    '|---|---:|---|---:|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.pool} | ${r.size} | ${r.taxa} x ${r.repeats} | ${r.heldOutPerSplit} | ${pct(r.recall)} (${pct(r.lo)}–${pct(r.hi)}) | ${pct(r.min)}–${pct(r.max)} | ${pts(r.launchChange)} (${pts(r.launchLo)} to ${pts(r.launchHi)}) |`,
    ),
  ].join('\n');
}
