/**
 * The correction picker's search per keystroke, over the launch taxa and both
 * packs' species (about 2,000 taxa, what a device with both packs offers):
 * `searchPicker` (names normalized once when the list is built) against
 * `searchTaxa`, the launch-only search the picker used, run on the same
 * merged list, in the same process, in alternating rounds. Each query is
 * typed a letter at a time; every prefix is one keystroke. Prints one JSON line.
 * `npx tsx bench/picker.ts [--rounds 30]`
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pickerTaxa, searchPicker } from '../core/picker-taxa.ts';
import { indexTaxonomy, searchTaxa, type Taxonomy } from '../core/taxonomy.ts';
import type { Manifest } from '../core/manifest.ts';
import { median } from '../core/stats.ts';

const MODELS = path.resolve(import.meta.dirname, '..', 'models');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number above 0, got ${values.rounds}`);

const taxonomy = JSON.parse(readFileSync(path.join(MODELS, 'taxonomy.json'), 'utf8')) as Taxonomy;
const packs = (JSON.parse(readFileSync(path.join(MODELS, 'registry', 'manifest.json'), 'utf8')) as Manifest).packs ?? [];
const launch = indexTaxonomy(taxonomy);

let t0 = performance.now();
const taxa = pickerTaxa(launch, packs);
const buildMs = performance.now() - t0;
// The old search over the same taxa: every name normalized again on every keystroke.
const merged = indexTaxonomy(
  taxonomy,
  taxa.entries.filter((e) => e.source === 'pack').map((e) => e.taxon),
);

const queries = ['blue jay', 'monarch', 'cyanocitta', 'beetle', "steller's jay"];
const keystrokes = queries.flatMap((q) => Array.from(q, (_, i) => q.slice(0, i + 1)));
const times: Record<'searchPicker' | 'searchTaxa', number[]> = { searchPicker: [], searchTaxa: [] };
const arms = { searchPicker: (q: string) => searchPicker(taxa, q, 12), searchTaxa: (q: string) => searchTaxa(merged, q, 12) };
// One untimed pass each (JIT), then rounds of every keystroke, arm by arm, alternating which goes first
// (a whole round per arm: the garbage the old search makes is mostly collected inside its own timings).
for (const q of keystrokes) for (const run of Object.values(arms)) run(q);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? (['searchTaxa', 'searchPicker'] as const) : (['searchPicker', 'searchTaxa'] as const);
  for (const arm of order)
    for (const q of keystrokes) {
      t0 = performance.now();
      arms[arm](q);
      times[arm].push(performance.now() - t0);
    }
}
const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { medianMs: +median(xs).toFixed(3), p95Ms: +sorted[Math.floor(0.95 * (sorted.length - 1))].toFixed(3), maxMs: +sorted[sorted.length - 1].toFixed(3) };
};
const picker = summary(times.searchPicker);
const old = summary(times.searchTaxa);
console.log(
  JSON.stringify({
    taxa: taxa.entries.length,
    launch: taxonomy.taxa.length,
    packs: packs.map((p) => p.id),
    keystrokes: keystrokes.length * rounds,
    buildMs: +buildMs.toFixed(1),
    searchPicker: picker,
    searchTaxa: old,
    medianRatio: +(old.medianMs / picker.medianMs).toFixed(1),
  }),
);
