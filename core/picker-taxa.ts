/**
 * What the correction picker offers and how it searches: the launch taxa
 * (models/taxonomy.json, every rank) and the species of every pack on the
 * device (from their labels, packTaxa), one entry per species. A pack
 * species that is also a launch species (same scientific name: House Finch,
 * Bald Eagle, Monarch...) keeps its launch entry, which the base model names
 * too and which needs no pack. Names are normalized once, when the list is
 * built, so a keystroke over ~2,000 taxa only scans prepared strings
 * (bench/picker.ts prints the time per keystroke).
 */
import type { SpeciesPack } from './manifest.ts';
import { packTaxa } from './species-pack.ts';
import { normalizeName, type Taxon, type TaxonIndex, type Taxonomy } from './taxonomy.ts';

export type PickerSource = 'launch' | 'pack';

export interface PickerEntry {
  taxon: Taxon;
  source: PickerSource;
  /** Its own names, normalized: common, scientific, ImageNet's. */
  own: string[];
  /** Its lineage's names, normalized, scientific and common ("coleoptera", "beetles"). */
  lineage: string[];
  /** Its normalized scientific name when it is a species: one entry per species. */
  species: string | null;
}

export interface PickerTaxa {
  /** Launch taxa first, then the packs' species: what an empty query lists. */
  entries: PickerEntry[];
  /** The same sorted by normalized common name, once, so a search needs no sort. */
  byName: PickerEntry[];
  byId: ReadonlyMap<string, PickerEntry>;
}

/** One of a pack answer's suggestions, as the picker puts it first. */
export type SuggestedTaxon = Pick<Taxon, 'id' | 'commonName' | 'scientificName' | 'rank'>;

function entry(taxon: Taxon, source: PickerSource, higherTaxa: Taxonomy['higherTaxa']): PickerEntry {
  const own = [taxon.commonName, taxon.scientificName, taxon.imagenetName ?? ''].filter(Boolean).map(normalizeName);
  const lineage = Object.values(taxon.lineage)
    .flatMap((n) => [n, higherTaxa[n]?.commonName ?? ''])
    .filter(Boolean)
    .map(normalizeName);
  return { taxon, source, own, lineage, species: taxon.rank === 'species' ? own[1] : null };
}

/** The launch taxa, then each pack's species not already listed, in the packs' order. */
export function pickerTaxa(launch: TaxonIndex, packs: ReadonlyArray<Pick<SpeciesPack, 'labels' | 'routeClass'>>): PickerTaxa {
  const higher = launch.taxonomy.higherTaxa;
  const entries = launch.taxonomy.taxa.map((t) => entry(t, 'launch', higher));
  const byId = new Map(entries.map((e) => [e.taxon.id, e]));
  const species = new Set(entries.map((e) => e.species));
  for (const pack of packs) {
    for (const t of packTaxa(pack, launch)) {
      if (!t || byId.has(t.id)) continue;
      const e = entry(t, 'pack', higher);
      if (species.has(e.species)) continue;
      entries.push(e);
      byId.set(t.id, e);
      species.add(e.species);
    }
  }
  const byName = [...entries].sort((a, b) => (a.own[0] < b.own[0] ? -1 : a.own[0] > b.own[0] ? 1 : 0));
  return { entries, byName, byId };
}

/** How well names match: 0 a name starts with the query, 1 a word of a name does, 2 a name holds it, 9 none. */
function nameScore(names: readonly string[], q: string, wordStart: string): number {
  let best = 9;
  for (const n of names) {
    if (n.startsWith(q)) return 0;
    if (best > 1 && n.includes(wordStart)) best = 1;
    else if (best > 2 && n.includes(q)) best = 2;
  }
  return best;
}

/** An entry's own names first (0 to 2), then its lineage's (3 to 5); 9 no match. */
function score(e: PickerEntry, q: string): number {
  const wordStart = ` ${q}`;
  const own = nameScore(e.own, q, wordStart);
  if (own < 9) return own;
  const lineage = nameScore(e.lineage, q, wordStart);
  return lineage < 9 ? 3 + lineage : 9;
}

/**
 * The picker's list for a query: matches best first (see score), then by
 * common name. `suggested` (a pack answer's top-5) come first, in their
 * order, whenever they match, and stand in for any entry of the same species.
 * An empty query lists the suggestions, then the entries as listed.
 * One pass over the name-sorted entries into a bucket per score, so no sort
 * runs per keystroke; the pass stops once the best bucket holds the limit.
 */
export function searchPicker(taxa: PickerTaxa, query: string, limit = 12, suggested: readonly SuggestedTaxon[] = []): PickerEntry[] {
  const q = normalizeName(query.trim());
  // A suggestion the list holds under another id (a launch species) is still named by the pack's id, as the pack answered.
  const first = suggested.map((s) => taxa.byId.get(s.id) ?? entry({ ...s, lineage: {} }, 'pack', {}));
  const taken = new Set(first.map((e) => e.species ?? e.taxon.id));
  const free = (e: PickerEntry) => !taken.has(e.species ?? e.taxon.id);
  if (!q) return [...first, ...taxa.entries.filter(free)].slice(0, limit);
  const found = first.filter((e) => score(e, q) < 9);
  const buckets: PickerEntry[][] = [[], [], [], [], [], []];
  for (const e of taxa.byName) {
    const s = score(e, q);
    if (s === 9 || !free(e)) continue;
    buckets[s].push(e);
    if (buckets[0].length + found.length >= limit) break;
  }
  return found.concat(...buckets).slice(0, limit);
}
