import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { interpretPack, packCorrection, packTaxa, parsePackLabel, routePack, speciesId, PACK_BACKGROUND } from './species-pack.ts';
import { packKey, validateEvent, type CorrectionEvent, type ValidationContext } from './telemetry.ts';
import { indexTaxonomy, type Taxonomy } from './taxonomy.ts';
import type { Prediction } from './postprocess.ts';

const INAT = path.resolve(import.meta.dirname, '..', '..', 'shared', 'models', 'inat');
const taxonomy = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', 'models', 'taxonomy.json'), 'utf8')) as Taxonomy;
const index = indexTaxonomy(taxonomy);
const labelsOf = (file: string) =>
  readFileSync(path.join(INAT, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

describe('pack labels', () => {
  it('parses "Scientific (Common)", hybrids (the source writes × as \\xd7) and a missing common name', () => {
    expect(parsePackLabel('Cyanocitta cristata (Blue Jay)')).toEqual({ scientificName: 'Cyanocitta cristata', commonName: 'Blue Jay' });
    expect(parsePackLabel('Larus glaucescens \\xd7 occidentalis (Olympic Gull)')).toEqual({ scientificName: 'Larus glaucescens × occidentalis', commonName: 'Olympic Gull' });
    expect(parsePackLabel('Syntomoides imaon ()')).toEqual({ scientificName: 'Syntomoides imaon', commonName: 'Syntomoides imaon' });
    expect(parsePackLabel('Junco hyemalis oreganus (Oregon Junco)').scientificName).toBe('Junco hyemalis oreganus');
    expect(() => parsePackLabel('tench, Tinca tinca')).toThrow(/not "Scientific name/);
  });

  for (const [file, cls] of [
    ['inat_bird_labels.txt', 'Aves'],
    ['inat_insect_labels.txt', 'Insecta'],
  ] as const) {
    it(`every label of ${file} becomes a species taxon with a unique id, lineage genus and class ${cls}`, () => {
      const labels = labelsOf(file);
      const taxa = packTaxa({ labels, routeClass: cls }, index);
      expect(taxa.filter((t) => t === null)).toHaveLength(labels.filter((l) => l === PACK_BACKGROUND).length);
      const real = taxa.filter((t) => t !== null);
      expect(new Set(real.map((t) => t.id)).size).toBe(real.length);
      for (const t of real) {
        expect(t.rank).toBe('species');
        expect(t.lineage.class).toBe(cls);
        expect(t.lineage.phylum).toBe(cls === 'Aves' ? 'Chordata' : 'Arthropoda');
        expect(t.scientificName.startsWith(`${t.lineage.genus} `)).toBe(true);
      }
    });
  }
});

const prediction = (
  taxonId: string,
  rollupRank: Prediction['rollup'] extends infer R ? (R extends { rank: infer K } ? K : never) : never,
  abstain: Prediction['abstainReason'] = null,
): Prediction => ({
  top5: [{ taxonId, commonName: taxonId, scientificName: taxonId, rank: 'species', probability: 0.9 }],
  otherProbability: 0.05,
  abstain: abstain !== null,
  abstainReason: abstain,
  rollup: { rank: rollupRank, scientificName: 'x', commonName: 'x', sentence: 'x' },
  summary: '',
});

describe('routing', () => {
  const packs = [
    { id: 'inat-birds', routeClass: 'Aves' },
    { id: 'inat-insects', routeClass: 'Insecta' },
  ];
  const bird = taxonomy.taxa.find((t) => t.lineage.class === 'Aves')!.id;
  const insect = taxonomy.taxa.find((t) => t.lineage.class === 'Insecta')!.id;
  const spider = taxonomy.taxa.find((t) => t.lineage.class === 'Arachnida')!.id;

  it("sends an answer that rolls up within a class to that class's pack", () => {
    expect(routePack(prediction(bird, 'species'), index, packs)?.id).toBe('inat-birds');
    expect(routePack(prediction(insect, 'order'), index, packs)?.id).toBe('inat-insects');
    expect(routePack(prediction(bird, 'class'), index, packs)?.id).toBe('inat-birds');
  });

  it('sends nothing when the roll-up spans classes, the answer is "other", or no pack has the class', () => {
    expect(routePack(prediction(insect, 'phylum'), index, packs)).toBeNull();
    expect(routePack(prediction(bird, 'species', 'other'), index, packs)).toBeNull();
    expect(routePack(prediction(spider, 'species'), index, packs)).toBeNull();
    expect(routePack({ ...prediction(bird, 'species'), rollup: null }, index, packs)).toBeNull();
    expect(routePack(prediction(bird, 'species'), index, [packs[1]])).toBeNull();
  });
});

describe('interpretPack', () => {
  it('ranks species, leaves background out of the list and reports its probability', () => {
    const pack = { id: 'p', version: '1.0.0', labels: ['Apis mellifera (Honey Bee)', PACK_BACKGROUND, 'Bombus terrestris (Buff-tailed Bumblebee)'], routeClass: 'Insecta' };
    const answer = interpretPack([1, 3, 2], pack, packTaxa(pack));
    expect(answer.top5.map((s) => s.taxonId)).toEqual([speciesId('Bombus terrestris'), 'apis-mellifera']);
    expect(answer.backgroundProbability).toBeGreaterThan(answer.top5[0].probability);
    expect(() => interpretPack([1, 2], pack, packTaxa(pack))).toThrow(RangeError);
  });
});

describe('packCorrection', () => {
  const pack = { id: 'inat-birds', version: '1.0.0', labels: ['Cyanocitta cristata (Blue Jay)', PACK_BACKGROUND, 'Haemorhous mexicanus (House Finch)'], routeClass: 'Aves' };
  // What a device sends when the user corrects the pack's House Finch to a Blue Jay, checked as the server checks it.
  const event = (packPart: CorrectionEvent['pack']): CorrectionEvent => ({
    type: 'correction',
    eventId: '00000000-0000-4000-8000-00000000000b',
    installId: '00000000-0000-4000-8000-00000000000c',
    correctsEventId: '00000000-0000-4000-8000-00000000000a',
    verdict: 'corrected',
    taxonId: 'cyanocitta-cristata',
    modelVersion: '1.0.0',
    embedding: new Array(1280).fill(0.25),
    appVersion: '0.1.0',
    hour: '2026-11-26T12:00:00Z',
    ...(packPart ? { pack: packPart } : {}),
  });
  const ctx: ValidationContext = {
    taxonIds: new Set([...index.byId.keys(), ...packTaxa(pack).flatMap((t) => (t ? [t.id] : []))]),
    embeddingSizes: new Map([['1.0.0', 1280]]),
    packEmbeddingSizes: new Map([[packKey(pack.id, pack.version), 1280]]),
  };

  it("carries the pack's id, version and its own embedding, which the server accepts with a pack taxon", () => {
    const embedding = Float32Array.from({ length: 1280 }, (_, i) => i / 1280);
    const part = packCorrection({ packId: pack.id, packVersion: pack.version, embedding });
    expect(part).toEqual({ id: 'inat-birds', version: '1.0.0', embedding: Array.from(embedding) });
    expect(validateEvent(event(part), ctx)).toEqual({ ok: true });
    // The pack taxon is what makes it known: without the pack's taxa the same event is refused.
    expect(validateEvent(event(part), { ...ctx, taxonIds: new Set(index.byId.keys()) })).toMatchObject({ ok: false, reason: 'unknown-taxon' });
  });

  it('is absent when no pack answered or its answer kept no embedding', () => {
    expect(packCorrection(undefined)).toBeUndefined();
    expect(packCorrection({ packId: pack.id, packVersion: pack.version })).toBeUndefined();
    expect(packCorrection({ packId: pack.id, packVersion: pack.version, embedding: new Float32Array(0) })).toBeUndefined();
  });
});
