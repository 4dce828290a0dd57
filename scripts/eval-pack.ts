/**
 * `npm run eval -- --model <pack>` (inat-birds, inat-insects): the pack's
 * species-level top-1 and top-5 with 95% intervals on every photo in
 * ../shared/data (or --images) whose ImageNet class names a species the pack
 * knows (models/pack-label-map.json maps them by scientific name), and the
 * router's accuracy: the base model run on every photo, each bird and insect
 * class (launch or not) expected to go to its pack, everything else nowhere.
 * --crop center|full scores the pack with another resize than registered
 * (how the registered one was chosen). Prints one JSON line.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { expectedRoute, expectedSpecies, scoreRouter, scoreSpecies, type PackLabelMap } from '../core/pack-eval.ts';
import { ROUTE_POLICY, routePack, speciesId } from '../core/species-pack.ts';
import type { InputSpec } from '../core/preprocess.ts';
import { loadTaxonomy, readManifest } from '../node/registry.ts';
import { readLabelledPhotos, type LabelledPhoto } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { NodePack } from '../node/pack-classifier.ts';
import { DATA_DIR_SHARED, MODELS_DIR } from '../node/paths.ts';

export const isPackId = (model: string | undefined) => !!model && !/^\d+\.\d+\.\d+/.test(model);

export async function evalPack(opts: { model: string; images?: string; labels?: string; crop?: InputSpec['crop']; router?: boolean }) {
  const map = JSON.parse(readFileSync(path.join(MODELS_DIR, 'pack-label-map.json'), 'utf8')) as PackLabelMap;
  const taxonomy = loadTaxonomy();
  const dirs = opts.images
    ? [opts.images]
    : readdirSync(DATA_DIR_SHARED)
        .map((d) => path.join(DATA_DIR_SHARED, d))
        .filter((d) => existsSync(path.join(d, 'labels.csv')));
  const photos: LabelledPhoto[] = dirs.flatMap((d) => readLabelledPhotos(d, opts.labels && opts.images ? opts.labels : path.join(d, 'labels.csv'), taxonomy));
  const pack = await NodePack.load(opts.model);
  const packs = readManifest()?.packs ?? [];
  const base = opts.router === false ? null : await NodeClassifier.load();
  const mine = photos.filter((p) => expectedSpecies(map, opts.model, p.imagenetIndex));
  const bar = new cliProgress.SingleBar({ format: `eval ${opts.model} [{bar}] {value}/{total}`, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  const todo = base ? photos : mine;
  bar.start(todo.length, 0);
  const species: Array<{ expected: string; top5: string[] }> = [];
  const routes: Array<{ expected: string | null; routed: string | null }> = [];
  const routesWhenOther: Array<{ expected: string | null; routed: string | null }> = [];
  const ms: number[] = [];
  let errors = 0;
  for (const photo of todo) {
    bar.increment();
    try {
      const bytes = new Uint8Array(readFileSync(photo.file));
      const want = expectedSpecies(map, opts.model, photo.imagenetIndex);
      if (want) {
        const { answer, ms: runMs } = await pack.run(await pack.tensorFor(bytes, path.basename(photo.file), opts.crop));
        species.push({ expected: speciesId(want), top5: answer.top5.map((s) => s.taxonId) });
        ms.push(runMs);
      }
      if (base) {
        const { prediction } = await base.classifyBytes(bytes, path.basename(photo.file));
        const expected = expectedRoute(map, photo.imagenetIndex);
        routes.push({ expected, routed: routePack(prediction, base.taxa, packs, { whenOther: false })?.routeClass ?? null });
        routesWhenOther.push({ expected, routed: routePack(prediction, base.taxa, packs, { whenOther: true })?.routeClass ?? null });
      }
    } catch (err) {
      errors++;
      console.error(`${photo.file}: ${(err as Error).message}`);
    }
  }
  bar.stop();
  await pack.release();
  await base?.release();
  ms.sort((a, b) => a - b);
  return {
    model: opts.model,
    version: pack.pack.version,
    crop: opts.crop ?? pack.pack.input.crop,
    species: scoreSpecies(species),
    median_ms: ms.length ? ms[Math.floor(ms.length / 2)] : null,
    // The router as shipped (ROUTE_POLICY), and both policies side by side.
    ...(base
      ? { router: scoreRouter(ROUTE_POLICY.whenOther ? routesWhenOther : routes), router_policies: { not_when_other: scoreRouter(routes), also_when_other: scoreRouter(routesWhenOther) } }
      : {}),
    sets: dirs.map((d) => path.basename(d)),
    errors,
  };
}
