/**
 * npm run bench:resamplers [-- --sets a,b --tiny N --model VERSION]
 *
 * Re-decides the resampler on evidence: the shipped float antialiased
 * bilinear (core/resample.ts, the triangle filter PIL and torchvision use:
 * the conventional choice, because it is how the zoo models' ImageNet
 * training and reference evaluation resized their photos) against sharp's
 * own resize kernels, on the same decoded pixels, the same resize-256 /
 * centre-crop-224 geometry and the same model. For every labelled set it
 * prints each candidate's share of right answers (the app's answer: the
 * taxon for a launch photo, "not one of our species" for any other), the
 * paired difference from the shipped resampler with Newcombe's 95% interval
 * and McNemar's test.
 *
 * The decision is taken on the sets apart from the evaluation set
 * (imagenet-val-animals is reported, not used): a candidate beats the
 * conventional choice only if, pooled over those sets, its interval lies
 * wholly above 0 and no set shows it significantly worse. The pooled figures
 * are also split into photos the app shrinks and photos it enlarges
 * (antialiasing only acts when shrinking; the split was added after the first
 * run showed the whole difference came from 64 px photos).
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { mcnemar, pairedCounts, pairedDifference } from '../core/intervals.ts';
import { pixelsToTensor, resizeCropPlan } from '../core/preprocess.ts';
import { resampleCrop } from '../core/resample.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import { readLabelledPhotos, type LabelledPhoto } from '../node/labelled-photos.ts';
import { NodeClassifier, photoToRgb } from '../node/node-classifier.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { ensureModels } from '../node/ensure-built.ts';

const EVAL_SET = 'imagenet-val-animals';
const CONVENTIONAL = 'float triangle (shipped)';
const SHARP_KERNELS = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const;

const program = new Command()
  .name('bench:resamplers')
  .option('--sets <list>', 'labelled sets under ../shared/data', (v) => v.split(','), ['imagenet-samples-animals', 'gcompris-animals', 'oxford-pets', 'tiny-imagenet-animals', EVAL_SET])
  .option('--tiny <n>', 'tiny-imagenet-animals photos to use (an even sample of the 6,000; 0 = all)', (v) => Number(v), 1200)
  .option('--model <version>', 'model version (default: the active one)')
  .option('--json <file>', 'also write the figures as JSON')
  .parse();
const opts = program.opts<{ sets: string[]; tiny: number; model?: string; json?: string }>();
ensureModels('the benchmark');

interface Decoded {
  data: Uint8Array;
  width: number;
  height: number;
}
type Candidate = { name: string; pixels: (img: Decoded, spec: NodeClassifier['model']['input']) => Promise<Float32Array | Uint8Array> };

/** The decode photoToRgb does (EXIF orientation, alpha on black, sRGB, RGB), once per photo for every candidate. */
async function decode(bytes: Uint8Array): Promise<Decoded> {
  const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().flatten({ background: '#000000' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

const candidates: Candidate[] = [
  { name: CONVENTIONAL, pixels: async (img, spec) => resampleCrop(img.data, img.width, img.height, 3, resizeCropPlan(img.width, img.height, spec)) },
  ...SHARP_KERNELS.map((kernel): Candidate => ({
    name: `sharp ${kernel}`,
    // The same decoded pixels, sharp's resize to the same plan, the same crop.
    pixels: async (img, spec) => {
      const plan = resizeCropPlan(img.width, img.height, spec);
      const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
        .resize({ width: plan.resizedWidth, height: plan.resizedHeight, fit: 'fill', kernel })
        .extract({ left: plan.crop.x, top: plan.crop.y, width: plan.crop.width, height: plan.crop.height })
        .raw()
        .toBuffer();
      return new Uint8Array(data);
    },
  })),
];

const taxonomy = loadTaxonomy();
const classifier = await NodeClassifier.load({ version: opts.model, threads: 2 });
const sets = opts.sets.map((name) => {
  let photos: LabelledPhoto[] = readLabelledPhotos(path.join(DATA_DIR_SHARED, name), path.join(DATA_DIR_SHARED, name, 'labels.csv'), taxonomy);
  if (name === 'tiny-imagenet-animals' && opts.tiny > 0 && photos.length > opts.tiny) {
    const step = photos.length / opts.tiny;
    photos = Array.from({ length: opts.tiny }, (_, i) => photos[Math.floor(i * step)]);
  }
  return { name, photos };
});
const total = sets.reduce((s, x) => s + x.photos.length, 0) * candidates.length;
const bar = new cliProgress.SingleBar({ format: 'resamplers [{bar}] {value}/{total} {set}', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
bar.start(total, 0, { set: '' });

/** right[set][candidate][photo]: the app's answer is right. */
const right = new Map<string, Map<string, boolean[]>>();
/** shrunk[set][photo]: the photo's shorter side is at least the resize target, so it is shrunk (antialiasing matters); else enlarged. */
const shrunk = new Map<string, boolean[]>();
const spec = classifier.model.input;
const plane = 3 * spec.size * spec.size;
let checked = false;
for (const set of sets) {
  const perCandidate = new Map<string, boolean[]>(candidates.map((c) => [c.name, []]));
  const sizes: boolean[] = [];
  shrunk.set(set.name, sizes);
  for (const photo of set.photos) {
    const bytes = new Uint8Array(readFileSync(photo.file));
    const img = await decode(bytes);
    sizes.push(Math.min(img.width, img.height) >= spec.resizeShorter);
    const batch = new Float32Array(candidates.length * plane);
    for (const [i, c] of candidates.entries()) pixelsToTensor(await c.pixels(img, spec), spec, 3, batch, i * plane);
    if (!checked) {
      // The conventional candidate must be exactly what the app's Node path feeds the model.
      const shipped = pixelsToTensor(await photoToRgb(bytes, spec), spec, 3);
      if (shipped.some((v, i) => v !== batch[i])) throw new Error('the shipped-resampler candidate differs from photoToRgb');
      checked = true;
    }
    const { logits } = await classifier.run(batch, candidates.length);
    candidates.forEach((c, i) => {
      const p = classifier.interpret(logits[i]);
      perCandidate.get(c.name)!.push(photo.label === OTHER_LABEL ? p.abstain : !p.abstain && p.top5[0]?.taxonId === photo.label);
    });
    bar.increment(candidates.length, { set: set.name });
  }
  right.set(set.name, perCandidate);
}
bar.stop();
await classifier.release();

const rows: Array<Record<string, unknown>> = [];
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
const lines = ['| set | resampler | n | right | change vs shipped, points (95% CI) | lost / gained | McNemar p |', '|---|---|---:|---:|---|---|---:|'];
const compare = (a: boolean[], b: boolean[]) => {
  const t = pairedCounts(a, b);
  return { d: pairedDifference(t), m: mcnemar(t.onlyCurrent, t.onlyCandidate) };
};
for (const set of sets) {
  const base = right.get(set.name)!.get(CONVENTIONAL)!;
  for (const c of candidates) {
    const mine = right.get(set.name)!.get(c.name)!;
    const { d, m } = compare(base, mine);
    rows.push({ set: set.name, resampler: c.name, n: mine.length, right: d.candidate, change: d.difference, lo: d.lo, hi: d.hi, lost: m.losses, gained: m.gains, p: m.p });
    lines.push(
      `| ${set.name}${set.name === EVAL_SET ? ' (evaluation set: not used to decide)' : ''} | ${c.name} | ${mine.length} | ${pct(d.candidate)} | ${c.name === CONVENTIONAL ? '–' : `${pts(d.difference)} (${pts(d.lo)} to ${pts(d.hi)})`} | ${c.name === CONVENTIONAL ? '–' : `${m.losses} / ${m.gains}`} | ${c.name === CONVENTIONAL ? '–' : m.p.toPrecision(2)} |`,
    );
  }
}
// Pooled over the sets apart from the evaluation set: all photos, then the photos the app shrinks and the ones it
// enlarges apart (antialiasing only acts when shrinking; the sets differ mostly in that: tiny-imagenet is 64 px).
const better: string[] = [];
const worseOn = (c: string) =>
  sets.some(
    (s) =>
      s.name !== EVAL_SET &&
      (() => {
        const r = compare(right.get(s.name)!.get(CONVENTIONAL)!, right.get(s.name)!.get(c)!);
        return r.m.losses > r.m.gains && r.m.p < 0.05;
      })(),
  );
for (const [title, keep] of [
  ['all photos', () => true],
  ['photos the app shrinks (shorter side >= 256 px)', (x: boolean) => x],
  ['photos the app enlarges (shorter side < 256 px)', (x: boolean) => !x],
] as const) {
  lines.push('', `| pooled over the sets apart from the evaluation set: ${title} | n | right | change vs shipped, points (95% CI) | lost / gained | McNemar p |`, '|---|---:|---:|---|---|---:|');
  for (const c of candidates) {
    const a: boolean[] = [],
      b: boolean[] = [];
    for (const set of sets) {
      if (set.name === EVAL_SET) continue;
      const base = right.get(set.name)!.get(CONVENTIONAL)!,
        mine = right.get(set.name)!.get(c.name)!,
        sz = shrunk.get(set.name)!;
      base.forEach((v, i) => {
        if (keep(sz[i])) {
          a.push(v);
          b.push(mine[i]);
        }
      });
    }
    if (!a.length) continue;
    const { d, m } = compare(a, b);
    rows.push({
      set: `pooled (not the evaluation set): ${title}`,
      resampler: c.name,
      n: b.length,
      right: d.candidate,
      change: d.difference,
      lo: d.lo,
      hi: d.hi,
      lost: m.losses,
      gained: m.gains,
      p: m.p,
    });
    lines.push(
      `| ${c.name} | ${b.length} | ${pct(d.candidate)} | ${c.name === CONVENTIONAL ? '–' : `${pts(d.difference)} (${pts(d.lo)} to ${pts(d.hi)})`} | ${c.name === CONVENTIONAL ? '–' : `${m.losses} / ${m.gains}`} | ${c.name === CONVENTIONAL ? '–' : m.p.toPrecision(2)} |`,
    );
    if (title === 'all photos' && c.name !== CONVENTIONAL && d.lo > 0 && !worseOn(c.name)) better.push(c.name);
  }
}
console.log(lines.join('\n'));
console.log(
  `\ndecision rule (pooled over all photos of the sets apart from the evaluation set, interval above 0, no set significantly worse): ${better.length ? `${better.join(', ')} is better than the shipped resampler; read the shrunk / enlarged split before changing anything` : `no candidate is clearly better: the conventional ${CONVENTIONAL} stays`}`,
);
if (opts.json) (await import('node:fs')).writeFileSync(opts.json, JSON.stringify({ createdAt: new Date().toISOString(), model: classifier.model.version, rows, better }, null, 2) + '\n');
