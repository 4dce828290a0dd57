import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pickerTaxa, searchPicker, type PickerEntry } from './picker-taxa.ts';
import { indexTaxonomy, type Taxonomy } from './taxonomy.ts';
import type { Manifest } from './manifest.ts';
import { packTaxa } from './species-pack.ts';

const MODELS = path.resolve(import.meta.dirname, '..', 'models');
const taxonomy = JSON.parse(readFileSync(path.join(MODELS, 'taxonomy.json'), 'utf8')) as Taxonomy;
const launch = indexTaxonomy(taxonomy);
// The committed registry's pack entries: what a device keeps in IndexedDB after a download.
const packs = (JSON.parse(readFileSync(path.join(MODELS, 'registry', 'manifest.json'), 'utf8')) as Manifest).packs ?? [];
const birds = packs.find((p) => p.id === 'inat-birds')!;
const insects = packs.find((p) => p.id === 'inat-insects')!;
const ids = (entries: PickerEntry[]) => entries.map((e) => e.taxon.id);

describe('pickerTaxa', () => {
  it('without packs offers the launch taxa only', () => {
    const taxa = pickerTaxa(launch, []);
    expect(taxa.entries).toHaveLength(taxonomy.taxa.length);
    expect(taxa.entries.every((e) => e.source === 'launch')).toBe(true);
    expect(ids(searchPicker(taxa, 'Blue Jay'))).toEqual([]);
    expect(ids(searchPicker(taxa, 'Cyanocitta'))).toEqual([]);
  });

  it('adds every pack species once; a species the launch list has keeps its launch entry', () => {
    expect(birds && insects).toBeTruthy();
    const taxa = pickerTaxa(launch, [birds, insects]);
    const packSpecies = [...packTaxa(birds), ...packTaxa(insects)].filter((t) => t !== null);
    const launchSpecies = new Set(taxonomy.taxa.filter((t) => t.rank === 'species').map((t) => t.scientificName.toLowerCase()));
    const shared = packSpecies.filter((t) => launchSpecies.has(t.scientificName.toLowerCase()));
    expect(shared.length).toBeGreaterThan(0);
    expect(taxa.entries).toHaveLength(taxonomy.taxa.length + packSpecies.length - shared.length);
    expect(new Set(ids(taxa.entries)).size).toBe(taxa.entries.length);
    expect(taxa.byId.get('house-finch')?.source).toBe('launch');
    expect(taxa.byId.has('haemorhous-mexicanus')).toBe(false);
    expect(taxa.byId.get('cyanocitta-cristata')).toMatchObject({ source: 'pack', taxon: { commonName: 'Blue Jay', rank: 'species', lineage: { class: 'Aves', genus: 'Cyanocitta' } } });
  });
});

describe('searchPicker', () => {
  const taxa = pickerTaxa(launch, [birds, insects]);

  it('finds a pack species by common name, any case, and by scientific name', () => {
    expect(ids(searchPicker(taxa, 'blue jay'))[0]).toBe('cyanocitta-cristata');
    expect(ids(searchPicker(taxa, '  BLUE JAY '))[0]).toBe('cyanocitta-cristata');
    expect(ids(searchPicker(taxa, 'Cyanocitta'))).toEqual(['cyanocitta-cristata', 'cyanocitta-stelleri']);
    expect(ids(searchPicker(taxa, 'danaus plexippus'))).toEqual(['monarch-butterfly']);
  });

  it('ranks a name that starts with the query, then a word that does, then the rest, then lineage matches', () => {
    const jays = searchPicker(taxa, 'jay', 50);
    expect(jays.length).toBeGreaterThan(3);
    // No common name starts with "jay" here: every hit has a word starting with it, before any name merely holding it.
    const firstNonWord = jays.findIndex((e) => !e.own.some((n) => n.startsWith('jay') || n.includes(' jay')));
    expect(firstNonWord === -1 || jays.slice(firstNonWord).every((e) => !e.own.some((n) => n.includes(' jay')))).toBe(true);
    // Own names before lineage: every beetle by name, then the ladybug (a family of the order "beetles").
    const beetles = searchPicker(taxa, 'beetle', 5000);
    const byLineage = beetles.findIndex((e) => e.own.every((n) => !n.includes('beetle')));
    expect(beetles[byLineage].taxon.id).toBe('ladybug');
    expect(beetles.slice(byLineage).every((e) => e.own.every((n) => !n.includes('beetle')))).toBe(true);
    expect(byLineage).toBeGreaterThan(10);
  });

  it("puts a pack answer's top-5 first, in order, for an empty query and whenever they match", () => {
    const top5 = ['haemorhous-mexicanus', 'haemorhous-purpureus', 'haemorhous-cassinii', 'passer-domesticus', 'cyanocitta-stelleri'].map((id) => {
      const t = packTaxa(birds).find((x) => x?.id === id)!;
      return { id: t.id, commonName: t.commonName, scientificName: t.scientificName, rank: t.rank };
    });
    expect(ids(searchPicker(taxa, '', 8, top5)).slice(0, 5)).toEqual(top5.map((t) => t.id));
    // The House Finch is named by the pack's id, not twice.
    const finches = ids(searchPicker(taxa, 'finch', 30, top5));
    expect(finches.slice(0, 3)).toEqual(['haemorhous-mexicanus', 'haemorhous-purpureus', 'haemorhous-cassinii']);
    expect(finches).not.toContain('house-finch');
    // A query the suggestions do not match lists what it matches.
    expect(ids(searchPicker(taxa, 'blue jay', 12, top5))[0]).toBe('cyanocitta-cristata');
  });

  it('caps the list at the limit', () => {
    expect(searchPicker(taxa, 'a', 12)).toHaveLength(12);
    expect(searchPicker(taxa, '', 12)).toHaveLength(12);
  });
});
