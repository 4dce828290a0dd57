/** `npm run eval -- --location right|wrong|none`: the location prior's effect on labelled photos (see core/location-eval.ts). */
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { NodeClassifier } from '../node/node-classifier.ts';
import type { LabelledPhoto } from '../node/labelled-photos.ts';
import { softmax } from '../core/postprocess.ts';
import { DEFAULT_FLOOR, parseRangeTable } from '../core/location-prior.ts';
import { locate, locationRows, locationTable, type LocationMode, type PhotoProbabilities } from '../core/location-eval.ts';
import { seededRandom } from '../core/random.ts';

export const RANGES_FILE = new URL('../models/ranges/ranges.json', import.meta.url);

export async function runLocationEval(photos: readonly LabelledPhoto[], opts: { mode: LocationMode; seed: number; model?: string }): Promise<void> {
  if (!Number.isInteger(opts.seed)) throw new Error(`--seed must be a whole number, got ${opts.seed}`);
  const ranges = parseRangeTable(JSON.parse(readFileSync(RANGES_FILE, 'utf8')));
  const classifier = await NodeClassifier.load({ version: opts.model });
  const { labels, abstainThreshold, version } = classifier.model;
  const bar = new cliProgress.SingleBar({ format: 'eval location [{bar}] {value}/{total}', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(photos.length, 0);
  const probs: PhotoProbabilities[] = [];
  for (const photo of photos) {
    try {
      // The exported logits already carry the version's temperature, so this softmax is the calibrated probability.
      const { logits } = await classifier.classifyFile(photo.file);
      probs.push({ label: photo.label, probabilities: softmax(logits) });
    } catch (err) {
      console.error(`${photo.file}: ${(err as Error).message}`);
    }
    bar.increment();
  }
  bar.stop();
  await classifier.release();
  // Draws come from their own seeded stream per mode, so "right" and "wrong" are each reproducible alone.
  const none = locate(probs, labels, abstainThreshold, 'none', ranges, seededRandom(opts.seed));
  const modes: LocationMode[] = opts.mode === 'none' ? ['none'] : ['none', opts.mode];
  const rows = modes.flatMap((m) => locationRows(m, m === 'none' ? none : locate(probs, labels, abstainThreshold, m, ranges, seededRandom(opts.seed)), none));
  console.log(locationTable(rows));
  console.log(
    JSON.stringify({
      location: opts.mode,
      seed: opts.seed,
      model: version,
      floor: DEFAULT_FLOOR,
      errors: photos.length - probs.length,
      rows: rows.map((r) => ({
        mode: r.mode,
        group: r.group,
        n: r.n,
        located: r.located,
        accuracy: Number(r.accuracy.toFixed(4)),
        vs_none:
          r.mode === 'none'
            ? null
            : { change: Number(r.vsNone.difference.toFixed(4)), ci95: [Number(r.vsNone.lo.toFixed(4)), Number(r.vsNone.hi.toFixed(4))], lost: r.vsNone.lost, gained: r.vsNone.gained },
      })),
    }),
  );
}
