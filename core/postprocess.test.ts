import { describe, expect, it } from 'vitest';
import { interpret, sharedRank, softmax, topK } from './postprocess.ts';
import { indexTaxonomy, type Taxon, type Taxonomy } from './taxonomy.ts';

/**
 * A small hand-made taxonomy, independent of models/taxonomy.json:
 * two beetle families (order Coleoptera), two eagles (family Accipitridae, different genera),
 * an ostrich (class Aves only in common with the eagles) and a jellyfish (another phylum).
 */
const taxonomy: Taxonomy = {
  version: 'test',
  taxa: [
    {
      id: 'ladybug',
      commonName: 'Ladybug',
      scientificName: 'Coccinellidae',
      rank: 'family',
      lineage: { phylum: 'Arthropoda', class: 'Insecta', order: 'Coleoptera' },
    },
    {
      id: 'tiger-beetle',
      commonName: 'Tiger beetle',
      scientificName: 'Carabidae',
      rank: 'family',
      lineage: { phylum: 'Arthropoda', class: 'Insecta', order: 'Coleoptera' },
    },
    {
      id: 'golden-eagle',
      commonName: 'Golden eagle',
      scientificName: 'Aquila chrysaetos',
      rank: 'species',
      lineage: { phylum: 'Chordata', class: 'Aves', order: 'Accipitriformes', family: 'Accipitridae', genus: 'Aquila' },
    },
    {
      id: 'bald-eagle',
      commonName: 'Bald eagle',
      scientificName: 'Haliaeetus leucocephalus',
      rank: 'species',
      lineage: { phylum: 'Chordata', class: 'Aves', order: 'Accipitriformes', family: 'Accipitridae', genus: 'Haliaeetus' },
    },
    {
      id: 'ostrich',
      commonName: 'Ostrich',
      scientificName: 'Struthio camelus',
      rank: 'species',
      lineage: { phylum: 'Chordata', class: 'Aves', order: 'Struthioniformes', family: 'Struthionidae', genus: 'Struthio' },
    },
    {
      id: 'jellyfish',
      commonName: 'Jellyfish',
      scientificName: 'Scyphozoa',
      rank: 'class',
      lineage: { phylum: 'Cnidaria' },
    },
  ],
  higherTaxa: {
    Arthropoda: { rank: 'phylum', commonName: 'arthropod' },
    Chordata: { rank: 'phylum', commonName: 'chordate' },
    Cnidaria: { rank: 'phylum', commonName: 'cnidarian' },
    Insecta: { rank: 'class', commonName: 'insect' },
    Aves: { rank: 'class', commonName: 'bird' },
    Coleoptera: { rank: 'order', commonName: 'beetle' },
    Accipitriformes: { rank: 'order', commonName: 'bird of prey' },
    Struthioniformes: { rank: 'order', commonName: 'ratite' },
    Accipitridae: { rank: 'family', commonName: 'hawk or eagle' },
    Struthionidae: { rank: 'family', commonName: 'ostrich' },
    Coccinellidae: { rank: 'family', commonName: 'lady beetle' },
    Carabidae: { rank: 'family', commonName: 'ground beetle' },
    Aquila: { rank: 'genus', commonName: 'true eagle' },
    Haliaeetus: { rank: 'genus', commonName: 'sea eagle' },
    Struthio: { rank: 'genus', commonName: 'ostrich' },
  },
};
const index = indexTaxonomy(taxonomy);
const LABELS = ['ladybug', 'tiger-beetle', 'golden-eagle', 'bald-eagle', 'ostrich', 'jellyfish', 'other'] as const;
const taxon = (id: string): Taxon => index.byId.get(id)!;

/** Logits whose softmax is weights / sum(weights): logit = ln(weight). */
const logitsFor = (weights: Record<(typeof LABELS)[number], number>) => LABELS.map((l) => Math.log(weights[l]));

describe('softmax', () => {
  it('matches hand values: [0, ln 2, ln 3] -> [1/6, 2/6, 3/6]', () => {
    const p = softmax([0, Math.log(2), Math.log(3)]);
    expect(p[0]).toBeCloseTo(1 / 6, 6);
    expect(p[1]).toBeCloseTo(2 / 6, 6);
    expect(p[2]).toBeCloseTo(3 / 6, 6);
  });

  it('gives equal logits equal probability: [0, 0] -> [0.5, 0.5]; [ln 1, ln 3] -> [0.25, 0.75]', () => {
    expect(Array.from(softmax([0, 0]))).toEqual([0.5, 0.5]);
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
  });

  it('sums to 1 and stays in [0, 1]', () => {
    const logits = [2.5, -1, 0.3, 7, -12, 4.4, 0, 0, 1e-3, -3.3];
    const p = softmax(logits);
    expect(p).toBeInstanceOf(Float32Array);
    expect(p.length).toBe(logits.length);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    for (const x of p) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    // the order of probabilities follows the order of logits
    expect(p[3]).toBeGreaterThan(p[5]);
    expect(p[5]).toBeGreaterThan(p[0]);
  });

  it('is numerically stable with huge logits (no Infinity/NaN)', () => {
    // exp(1000) overflows a double; subtracting the max first keeps it at exp(0) = 1 and exp(-2000) = 0.
    expect(Array.from(softmax([1000, -1000]))).toEqual([1, 0]);
    expect(Array.from(softmax([1000, 1000]))).toEqual([0.5, 0.5]);
    const p = softmax([-1000, -1000, -1000, -1000]);
    expect(Array.from(p)).toEqual([0.25, 0.25, 0.25, 0.25]);
    // 1000 + ln 3 vs 1000: [1/4, 3/4] despite the huge offset
    const q = softmax([1000, 1000 + Math.log(3)]);
    expect(q[0]).toBeCloseTo(0.25, 5);
    expect(q[1]).toBeCloseTo(0.75, 5);
  });

  it('is invariant to adding a constant to every logit', () => {
    const a = softmax([1, 2, 3]);
    const b = softmax([101, 102, 103]);
    for (let i = 0; i < 3; i++) expect(a[i]).toBeCloseTo(b[i], 6);
  });

  it('returns an empty array for no logits', () => {
    expect(softmax([]).length).toBe(0);
  });
});

describe('topK', () => {
  it('returns the k largest values, largest first, with their indices', () => {
    expect(topK([0.1, 0.7, 0.3, 0.9, 0.2], 3)).toEqual([
      { index: 3, value: 0.9 },
      { index: 1, value: 0.7 },
      { index: 2, value: 0.3 },
    ]);
  });

  it('handles ascending and descending input', () => {
    expect(topK([1, 2, 3, 4, 5, 6], 3).map((r) => r.index)).toEqual([5, 4, 3]);
    expect(topK([6, 5, 4, 3, 2, 1], 3).map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it('keeps the lower index first on ties, inside the list and at the cut-off', () => {
    expect(topK([0.1, 0.5, 0.3, 0.5, 0.2], 3).map((r) => r.index)).toEqual([1, 3, 2]);
    // three-way tie for two places: indices 0 and 2 win, 3 is cut
    expect(topK([0.5, 0.2, 0.5, 0.5], 2).map((r) => r.index)).toEqual([0, 2]);
    expect(topK([1, 1, 1, 1, 1], 5).map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('skips indices the predicate rejects', () => {
    expect(topK([0.1, 0.9, 0.5, 0.7], 2, (i) => i === 1)).toEqual([
      { index: 3, value: 0.7 },
      { index: 2, value: 0.5 },
    ]);
    expect(topK([3, 2, 1], 5, () => true)).toEqual([]);
  });

  it('returns everything, sorted, when k exceeds the length', () => {
    expect(topK([3, 1, 2], 10).map((r) => r.index)).toEqual([0, 2, 1]);
    expect(topK([], 5)).toEqual([]);
  });

  it('works with negative values and typed arrays', () => {
    expect(topK(new Float32Array([-3, -1, -2, -5]), 2).map((r) => r.index)).toEqual([1, 2]);
  });

  it('returns an empty list for k = 0', () => {
    expect(topK([1, 2, 3], 0)).toEqual([]);
  });
});

describe('sharedRank', () => {
  it('returns null for an empty list', () => {
    expect(sharedRank([], index)).toBeNull();
  });

  it('a single taxon of rank family rolls up to itself, named by its own common name', () => {
    // the taxon's own "Ladybug" wins over higherTaxa's "lady beetle" for the same name
    expect(sharedRank([taxon('ladybug')], index)).toEqual({
      rank: 'family',
      scientificName: 'Coccinellidae',
      commonName: 'ladybug',
      sentence: 'a ladybug (family Coccinellidae)',
    });
  });

  it('a single species shows the binomial alone, without the word "species"', () => {
    expect(sharedRank([taxon('golden-eagle')], index)).toEqual({
      rank: 'species',
      scientificName: 'Aquila chrysaetos',
      commonName: 'golden eagle',
      sentence: 'a golden eagle (Aquila chrysaetos)',
    });
  });

  it('uses "an" before a vowel', () => {
    expect(sharedRank([taxon('ostrich')], index)?.sentence).toBe('an ostrich (Struthio camelus)');
  });

  it('two beetle families share the order Coleoptera', () => {
    expect(sharedRank([taxon('ladybug'), taxon('tiger-beetle')], index)).toEqual({
      rank: 'order',
      scientificName: 'Coleoptera',
      commonName: 'beetle',
      sentence: 'a beetle (order Coleoptera)',
    });
  });

  it('picks the lowest shared rank: two eagles share a family, not just the order', () => {
    expect(sharedRank([taxon('golden-eagle'), taxon('bald-eagle')], index)?.sentence).toBe('a hawk or eagle (family Accipitridae)');
    // adding the ostrich leaves only the class in common
    expect(sharedRank([taxon('golden-eagle'), taxon('bald-eagle'), taxon('ostrich')], index)).toMatchObject({
      rank: 'class',
      scientificName: 'Aves',
      sentence: 'a bird (class Aves)',
    });
  });

  it('returns null when the taxa share no rank at all', () => {
    expect(sharedRank([taxon('ladybug'), taxon('jellyfish')], index)).toBeNull();
    expect(sharedRank([taxon('golden-eagle'), taxon('jellyfish'), taxon('tiger-beetle')], index)).toBeNull();
  });

  it('falls back to the scientific name when higherTaxa has no common name for it', () => {
    const bare = indexTaxonomy({ ...taxonomy, higherTaxa: {} });
    expect(sharedRank([taxon('ladybug'), taxon('tiger-beetle')], bare)?.sentence).toBe('a Coleoptera (order Coleoptera)');
  });
});

describe('interpret', () => {
  const opts = { abstainThreshold: 0.5 };

  it('abstains with reason "other" when the other class wins', () => {
    // other: e^5 / (6 + e^5) = 148.41 / 154.41 = 0.9611
    const p = interpret([0, 0, 0, 0, 0, 0, 5], LABELS, index, opts);
    expect(p.abstain).toBe(true);
    expect(p.abstainReason).toBe('other');
    expect(p.otherProbability).toBeCloseTo(0.9611, 4);
    expect(p.summary).toBe('Not one of our species.');
    // "other" is never one of the suggestions
    expect(p.top5).toHaveLength(5);
    expect(p.top5.map((s) => s.taxonId)).not.toContain('other');
    // equal logits: ties keep label order
    expect(p.top5.map((s) => s.taxonId)).toEqual(['ladybug', 'tiger-beetle', 'golden-eagle', 'bald-eagle', 'ostrich']);
  });

  it('treats a tie between "other" and the top taxon as "other"', () => {
    const p = interpret([0, 0, 0, 0, 0, 0, 0], LABELS, index, { abstainThreshold: 0 });
    expect(p.abstainReason).toBe('other');
  });

  it('abstains with "low-confidence" below the threshold, still naming the closest shared rank', () => {
    // weights 4, 3, 1, 1, 0.5, 0.25, other 0.25 of 10 -> probabilities 0.4, 0.3, 0.1, 0.1, 0.05, 0.025, 0.025
    const logits = logitsFor({ ladybug: 4, 'tiger-beetle': 3, 'golden-eagle': 1, 'bald-eagle': 1, ostrich: 0.5, jellyfish: 0.25, other: 0.25 });
    // rollupMass 0.7: target 0.7 * (1 - 0.025) = 0.6825; 0.4 + 0.3 = 0.7 reaches it -> the two beetles
    const p = interpret(logits, LABELS, index, { abstainThreshold: 0.5, rollupMass: 0.7 });
    expect(p.top5[0].probability).toBeCloseTo(0.4, 5);
    expect(p.otherProbability).toBeCloseTo(0.025, 5);
    expect(p.abstain).toBe(true);
    expect(p.abstainReason).toBe('low-confidence');
    expect(p.rollup?.sentence).toBe('a beetle (order Coleoptera)');
    expect(p.summary).toBe('Not sure: possibly not one of our species; closest match is a beetle (order Coleoptera).');

    // default rollupMass 0.8: target 0.78, needs 0.4 + 0.3 + 0.1 (an eagle joins) -> nothing shared
    const q = interpret(logits, LABELS, index, { abstainThreshold: 0.5 });
    expect(q.abstainReason).toBe('low-confidence');
    expect(q.rollup).toBeNull();
    expect(q.summary).toBe('Not sure: possibly not one of our species.');
  });

  it('does not abstain when the top taxon is confident; the roll-up is the taxon itself', () => {
    // golden eagle 97 of 100 -> 0.97; the six others 0.5 each -> 0.005
    const logits = logitsFor({ ladybug: 0.5, 'tiger-beetle': 0.5, 'golden-eagle': 97, 'bald-eagle': 0.5, ostrich: 0.5, jellyfish: 0.5, other: 0.5 });
    const p = interpret(logits, LABELS, index, opts);
    expect(p.abstain).toBe(false);
    expect(p.abstainReason).toBeNull();
    expect(p.top5[0]).toEqual({
      taxonId: 'golden-eagle',
      commonName: 'Golden eagle',
      scientificName: 'Aquila chrysaetos',
      rank: 'species',
      probability: expect.closeTo(0.97, 5),
    });
    expect(p.otherProbability).toBeCloseTo(0.005, 5);
    expect(p.rollup).toEqual({ rank: 'species', scientificName: 'Aquila chrysaetos', commonName: 'golden eagle', sentence: 'a golden eagle (Aquila chrysaetos)' });
    expect(p.summary).toBe('This is a golden eagle (Aquila chrysaetos).');
  });

  it('rolls two equally likely beetles up to "a beetle (order Coleoptera)"', () => {
    // 45, 45, 4, 3, 1, 1, other 1 of 100; target 0.8 * 0.99 = 0.792 needs both beetles (0.9)
    const logits = logitsFor({ ladybug: 45, 'tiger-beetle': 45, 'golden-eagle': 4, 'bald-eagle': 3, ostrich: 1, jellyfish: 1, other: 1 });
    const p = interpret(logits, LABELS, index, { abstainThreshold: 0.3 });
    expect(p.abstain).toBe(false);
    expect(p.top5.map((s) => s.taxonId)).toEqual(['ladybug', 'tiger-beetle', 'golden-eagle', 'bald-eagle', 'ostrich']);
    expect(p.top5.map((s) => s.probability)).toEqual([0.45, 0.45, 0.04, 0.03, 0.01].map((x) => expect.closeTo(x, 5)));
    expect(p.rollup).toEqual({ rank: 'order', scientificName: 'Coleoptera', commonName: 'beetle', sentence: 'a beetle (order Coleoptera)' });
    expect(p.summary).toBe('This is a beetle (order Coleoptera).');
  });

  it('gives no roll-up when the top suggestions share nothing, and says they disagree', () => {
    const logits = logitsFor({ ladybug: 45, 'tiger-beetle': 1, 'golden-eagle': 1, 'bald-eagle': 1, ostrich: 1, jellyfish: 45, other: 6 });
    const p = interpret(logits, LABELS, index, { abstainThreshold: 0.3 });
    expect(p.abstain).toBe(false);
    expect(p.rollup).toBeNull();
    expect(p.summary).toBe('Possibly a ladybug, but the suggestions disagree.');
  });

  it('uses "an" in the disagreement summary before a vowel', () => {
    const logits = logitsFor({ ladybug: 1, 'tiger-beetle': 1, 'golden-eagle': 1, 'bald-eagle': 1, ostrich: 45, jellyfish: 45, other: 6 });
    const p = interpret(logits, LABELS, index, { abstainThreshold: 0.3 });
    expect(p.rollup).toBeNull();
    expect(p.summary).toBe('Possibly an ostrich, but the suggestions disagree.');
  });

  it('works without an "other" label (other probability 0)', () => {
    const labels = ['ladybug', 'tiger-beetle'];
    const p = interpret([Math.log(3), 0], labels, index, opts);
    expect(p.otherProbability).toBe(0);
    expect(p.top5.map((s) => s.taxonId)).toEqual(['ladybug', 'tiger-beetle']);
    expect(p.top5[0].probability).toBeCloseTo(0.75, 6);
    expect(p.abstain).toBe(false);
  });

  it('throws when logits and labels differ in length', () => {
    expect(() => interpret([0, 0, 0], LABELS, index, opts)).toThrow(RangeError);
    expect(() => interpret([0, 0, 0], LABELS, index, opts)).toThrow('got 3 logits for 7 labels');
  });

  it('throws when a suggested label is not in the taxonomy', () => {
    expect(() => interpret([0, 5, 0], ['ladybug', 'unicorn', 'other'], index, opts)).toThrow('label "unicorn" is not in the taxonomy');
  });
});
