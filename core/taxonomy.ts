/** The launch taxonomy (models/taxonomy.json) and lookups over it. */

export const RANKS = ['species', 'genus', 'family', 'order', 'class', 'phylum'] as const;
export type Rank = (typeof RANKS)[number];
export type LineageRank = Exclude<Rank, 'species'>;

export interface Taxon {
  id: string;
  commonName: string;
  scientificName: string;
  rank: Rank;
  lineage: Partial<Record<LineageRank, string>>;
  imagenetIndex?: number;
  wnid?: string;
  imagenetName?: string;
  note?: string;
}

export interface HigherTaxon {
  rank: Rank;
  commonName: string;
}

export interface Taxonomy {
  version: string;
  taxa: Taxon[];
  higherTaxa: Record<string, HigherTaxon>;
}

/** The label of the class that stands for "none of the launch species". */
export const OTHER_LABEL = 'other';

export interface TaxonIndex {
  taxonomy: Taxonomy;
  byId: Map<string, Taxon>;
}

/**
 * Indexes the taxonomy, plus taxa a model version adds beyond it (its
 * extraTaxa), so every label of that version can be named.
 */
export function indexTaxonomy(taxonomy: Taxonomy, extra: readonly Taxon[] = []): TaxonIndex {
  const byId = new Map<string, Taxon>();
  if (extra.length) taxonomy = { ...taxonomy, taxa: [...taxonomy.taxa, ...extra] };
  for (const t of taxonomy.taxa) {
    if (byId.has(t.id)) throw new Error(`duplicate taxon id "${t.id}"`);
    byId.set(t.id, t);
  }
  return { taxonomy, byId };
}

/** The taxon's full classification, its own rank included. */
export function fullLineage(taxon: Taxon): Partial<Record<Rank, string>> {
  return { ...taxon.lineage, [taxon.rank]: taxon.scientificName };
}

/** Rank of `a` is below (more specific than) rank `b`. */
export const rankBelow = (a: Rank, b: Rank) => RANKS.indexOf(a) < RANKS.indexOf(b);

/** A name as searches compare it: accents dropped, lower case. Printable ASCII (most names) skips the Unicode decomposition, the costly part over thousands of names. */
export const normalizeName = (s: string) =>
  /^[ -~]*$/.test(s)
    ? s.toLowerCase()
    : s
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase();

/** Case- and accent-insensitive search over common and scientific names of every rank. */
export function searchTaxa(index: TaxonIndex, query: string, limit = 20): Taxon[] {
  const norm = normalizeName;
  const q = norm(query.trim());
  if (!q) return index.taxonomy.taxa.slice(0, limit);
  const scored: Array<[number, Taxon]> = [];
  for (const t of index.taxonomy.taxa) {
    const names = [t.commonName, t.scientificName, t.imagenetName ?? '', ...Object.values(t.lineage).flatMap((n) => [n, index.taxonomy.higherTaxa[n]?.commonName ?? ''])].map(norm);
    const best = Math.min(...names.map((n) => (n.startsWith(q) ? 0 : n.includes(q) ? 1 : 9)));
    if (best < 9) scored.push([best, t]);
  }
  return scored
    .sort((a, b) => a[0] - b[0] || a[1].commonName.localeCompare(b[1].commonName))
    .slice(0, limit)
    .map(([, t]) => t);
}
