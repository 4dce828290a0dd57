import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fullLineage, indexTaxonomy, OTHER_LABEL, rankBelow, RANKS, searchTaxa, type Rank, type Taxon, type Taxonomy } from './taxonomy.ts';

const t = (id: string, commonName: string, scientificName: string, rank: Rank, lineage: Taxon['lineage'], extra: Partial<Taxon> = {}): Taxon => ({
  id,
  commonName,
  scientificName,
  rank,
  lineage,
  ...extra,
});

const INSECT = { phylum: 'Arthropoda', class: 'Insecta' } as const;
const BIRD = { phylum: 'Chordata', class: 'Aves' } as const;

/** Hand-made taxonomy for the search tests (taxonomy order is deliberately not alphabetical). */
const taxonomy: Taxonomy = {
  version: 'test',
  taxa: [
    t('tiger-beetle', 'Tiger beetle', 'Carabidae', 'family', { ...INSECT, order: 'Coleoptera' }),
    t('ladybug', 'Ladybug', 'Coccinellidae', 'family', { ...INSECT, order: 'Coleoptera' }, { imagenetName: 'ladybird' }),
    t('golden-eagle', 'Golden eagle', 'Aquila chrysaetos', 'species', { ...BIRD, order: 'Accipitriformes', family: 'Accipitridae', genus: 'Aquila' }),
    t('bald-eagle', 'Bald eagle', 'Haliaeetus leucocephalus', 'species', { ...BIRD, order: 'Accipitriformes', family: 'Accipitridae', genus: 'Haliaeetus' }),
    t('eagle-ray', 'Eagle ray', 'Myliobatidae', 'family', { phylum: 'Chordata', class: 'Chondrichthyes', order: 'Myliobatiformes' }),
    t('rhea', 'Ñandú', 'Rhea americana', 'species', { ...BIRD, order: 'Rheiformes', family: 'Rheidae', genus: 'Rhea' }),
    t('ostrich', 'Ostrich', 'Struthio camelus', 'species', { ...BIRD, order: 'Struthioniformes', family: 'Struthionidae', genus: 'Struthio' }),
    t('dragonfly', 'Dragonfly', 'Anisoptera', 'order', { ...INSECT }),
  ],
  higherTaxa: {
    Arthropoda: { rank: 'phylum', commonName: 'arthropod' },
    Chordata: { rank: 'phylum', commonName: 'chordate' },
    Insecta: { rank: 'class', commonName: 'insect' },
    Aves: { rank: 'class', commonName: 'bird' },
    Chondrichthyes: { rank: 'class', commonName: 'cartilaginous fish' },
    Coleoptera: { rank: 'order', commonName: 'beetle' },
    Accipitriformes: { rank: 'order', commonName: 'bird of prey' },
    Myliobatiformes: { rank: 'order', commonName: 'stingray' },
    Rheiformes: { rank: 'order', commonName: 'rhea' },
    Struthioniformes: { rank: 'order', commonName: 'ostrich' },
    Accipitridae: { rank: 'family', commonName: 'hawk or eagle' },
    Rheidae: { rank: 'family', commonName: 'rhea' },
    Struthionidae: { rank: 'family', commonName: 'ostrich' },
    Aquila: { rank: 'genus', commonName: 'true eagle' },
    Haliaeetus: { rank: 'genus', commonName: 'sea eagle' },
    Rhea: { rank: 'genus', commonName: 'rhea' },
    Struthio: { rank: 'genus', commonName: 'ostrich' },
  },
};
const index = indexTaxonomy(taxonomy);
const ids = (taxa: Taxon[]) => taxa.map((x) => x.id);

describe('indexTaxonomy', () => {
  it('indexes taxa by id', () => {
    expect(index.byId.size).toBe(8);
    expect(index.byId.get('ostrich')?.scientificName).toBe('Struthio camelus');
    expect(index.byId.get('nope')).toBeUndefined();
    expect(index.taxonomy).toBe(taxonomy);
  });

  it('throws on a duplicate id, naming it', () => {
    const dup: Taxonomy = { ...taxonomy, taxa: [...taxonomy.taxa, t('ladybug', 'Ladybird', 'Coccinellidae', 'family', {})] };
    expect(() => indexTaxonomy(dup)).toThrow('duplicate taxon id "ladybug"');
  });
});

describe('fullLineage and rankBelow', () => {
  it('adds the taxon itself at its own rank', () => {
    expect(fullLineage(index.byId.get('golden-eagle')!)).toEqual({
      phylum: 'Chordata',
      class: 'Aves',
      order: 'Accipitriformes',
      family: 'Accipitridae',
      genus: 'Aquila',
      species: 'Aquila chrysaetos',
    });
    expect(fullLineage(index.byId.get('ladybug')!)).toEqual({ phylum: 'Arthropoda', class: 'Insecta', order: 'Coleoptera', family: 'Coccinellidae' });
  });

  it('orders ranks from species (lowest) to phylum', () => {
    expect(rankBelow('species', 'genus')).toBe(true);
    expect(rankBelow('family', 'phylum')).toBe(true);
    expect(rankBelow('order', 'family')).toBe(false);
    expect(rankBelow('class', 'class')).toBe(false);
  });
});

describe('searchTaxa', () => {
  it('finds by common name (substring)', () => {
    // "Eagle ray" starts with the query, so it comes before the two eagles that only contain it
    expect(ids(searchTaxa(index, 'eagle'))).toEqual(['eagle-ray', 'bald-eagle', 'golden-eagle']);
    expect(ids(searchTaxa(index, 'ostr'))).toEqual(['ostrich']);
  });

  it('finds by scientific name', () => {
    expect(ids(searchTaxa(index, 'Haliaeetus'))).toEqual(['bald-eagle']);
    expect(ids(searchTaxa(index, 'chrysaetos'))).toEqual(['golden-eagle']);
    expect(ids(searchTaxa(index, 'Coccinellidae'))).toEqual(['ladybug']);
  });

  it('finds by a lineage name: "coleoptera" finds the beetles', () => {
    expect(ids(searchTaxa(index, 'coleoptera'))).toEqual(['ladybug', 'tiger-beetle']);
    // "Aves" finds every bird, sorted by common name (Ñ sorts with N)
    expect(ids(searchTaxa(index, 'aves'))).toEqual(['bald-eagle', 'golden-eagle', 'rhea', 'ostrich']);
    expect(ids(searchTaxa(index, 'insecta'))).toEqual(['dragonfly', 'ladybug', 'tiger-beetle']);
  });

  it('finds by the ImageNet name', () => {
    expect(ids(searchTaxa(index, 'ladybird'))).toEqual(['ladybug']);
  });

  it('finds by the common name of a higher rank ("every rank")', () => {
    // "beetle" is the common name of order Coleoptera: the ladybug has "beetle" in none of its own names;
    // the dragonfly is an insect but not a beetle.
    expect(ids(searchTaxa(index, 'beetle'))).toEqual(['ladybug', 'tiger-beetle']);
    // "bird" (class Aves) is a prefix match for every bird, the ostrich and the ñandú included;
    // the ladybug's ImageNet name "ladybird" only contains it, so it comes last.
    expect(ids(searchTaxa(index, 'bird'))).toEqual(['bald-eagle', 'golden-eagle', 'rhea', 'ostrich', 'ladybug']);
    expect(ids(searchTaxa(index, 'stingray'))).toEqual(['eagle-ray']);
  });

  it('is case-insensitive', () => {
    expect(ids(searchTaxa(index, 'COLEOPTERA'))).toEqual(['ladybug', 'tiger-beetle']);
    expect(ids(searchTaxa(index, 'gOlDeN EaGlE'))).toEqual(['golden-eagle']);
  });

  it('is accent-insensitive in both directions', () => {
    // the name has accents, the query does not
    expect(ids(searchTaxa(index, 'nandu'))).toEqual(['rhea']);
    // the query has accents, the name does not
    expect(ids(searchTaxa(index, 'ÓSTRÏCH'))).toEqual(['ostrich']);
    expect(ids(searchTaxa(index, 'Ñandú'))).toEqual(['rhea']);
  });

  it('trims the query', () => {
    expect(ids(searchTaxa(index, '  haliaeetus \n'))).toEqual(['bald-eagle']);
  });

  it('ranks prefix matches before substring matches, then by common name', () => {
    // "ea" is a prefix of "Eagle ray" only, and inside "Bald eagle", "Golden eagle" and "Rhea americana".
    // Alphabetical order alone would put "Eagle ray" second.
    expect(ids(searchTaxa(index, 'ea'))).toEqual(['eagle-ray', 'bald-eagle', 'golden-eagle', 'rhea']);
  });

  it('respects the limit', () => {
    expect(searchTaxa(index, 'aves', 2)).toHaveLength(2);
    expect(ids(searchTaxa(index, 'aves', 2))).toEqual(['bald-eagle', 'golden-eagle']);
  });

  it('returns the first taxa in taxonomy order for an empty or blank query', () => {
    expect(ids(searchTaxa(index, ''))).toEqual(ids(taxonomy.taxa));
    expect(ids(searchTaxa(index, '   ', 3))).toEqual(['tiger-beetle', 'ladybug', 'golden-eagle']);
  });

  it('returns nothing when nothing matches', () => {
    expect(searchTaxa(index, 'zebra')).toEqual([]);
  });
});

describe('models/taxonomy.json (the launch taxonomy)', () => {
  const real = JSON.parse(readFileSync(new URL('../models/taxonomy.json', import.meta.url), 'utf8')) as Taxonomy;
  const lineageRanks = RANKS.filter((r) => r !== 'species');

  it('has 100 taxa with unique, kebab-case ids and indexes without error', () => {
    expect(typeof real.version).toBe('string');
    expect(real.taxa).toHaveLength(100);
    expect(new Set(real.taxa.map((x) => x.id)).size).toBe(100);
    for (const x of real.taxa) expect(x.id, x.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(real.taxa.map((x) => x.id)).not.toContain(OTHER_LABEL);
    expect(() => indexTaxonomy(real)).not.toThrow();
  });

  it('every taxon has a valid rank, names, and a complete lineage above its rank', () => {
    for (const x of real.taxa) {
      expect(RANKS, x.id).toContain(x.rank);
      expect(x.commonName.trim(), x.id).not.toBe('');
      expect(x.scientificName.trim(), x.id).not.toBe('');
      for (const key of Object.keys(x.lineage)) {
        expect(lineageRanks, `${x.id} lineage.${key}`).toContain(key);
        // the lineage names ranks above the taxon, or repeats the taxon itself at its own rank
        expect(rankBelow(key as Rank, x.rank), `${x.id} lineage.${key} is below its rank ${x.rank}`).toBe(false);
        if (key === x.rank) expect(x.lineage[key as keyof Taxon['lineage']], x.id).toBe(x.scientificName);
      }
      for (const r of lineageRanks.filter((r) => rankBelow(x.rank, r))) {
        expect(x.lineage[r], `${x.id} has no ${r}`).toBeTruthy();
      }
    }
  });

  it('every lineage value has a higherTaxa entry of the same rank', () => {
    for (const x of real.taxa) {
      for (const [rank, name] of Object.entries(x.lineage)) {
        const higher = real.higherTaxa[name];
        expect(higher, `${x.id}: ${rank} ${name} missing from higherTaxa`).toBeDefined();
        expect(higher.rank, `${x.id}: ${name}`).toBe(rank);
        expect(higher.commonName.trim(), name).not.toBe('');
      }
    }
    for (const [name, h] of Object.entries(real.higherTaxa)) expect(RANKS, name).toContain(h.rank);
  });

  it('maps each taxon to a distinct ImageNet animal class (0..397)', () => {
    const indices = real.taxa.map((x) => x.imagenetIndex);
    for (const i of indices) {
      expect(Number.isInteger(i)).toBe(true);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThanOrEqual(397);
    }
    expect(new Set(indices).size).toBe(100);
  });

  it('search over the real data: "coleoptera" finds exactly the beetles, ladybug and tiger beetle among them', () => {
    const realIndex = indexTaxonomy(real);
    const beetles = real.taxa.filter((x) => x.lineage.order === 'Coleoptera' || (x.rank === 'order' && x.scientificName === 'Coleoptera'));
    const found = searchTaxa(realIndex, 'coleoptera', 1000);
    expect(new Set(ids(found))).toEqual(new Set(ids(beetles)));
    expect(ids(found)).toEqual(expect.arrayContaining(['ladybug', 'tiger-beetle']));
  });
});
