import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { checkCorrections, DEFAULT_QUALITY, type TrainingCorrection } from './quality.ts';
import { seededRandom } from '../core/random.ts';

const D = 16;
const opts = { ...DEFAULT_QUALITY, embeddingSize: D, modelVersions: new Set(['1.0.0']) };

/** Well separated synthetic classes: a prototype per class plus a little noise. */
function batch(classes: number, perClass: number, seed = 1): TrainingCorrection[] {
  const rand = seededRandom(seed);
  const protos = Array.from({ length: classes }, () => Float32Array.from({ length: D }, () => rand() * 4));
  return protos.flatMap((p, c) => Array.from({ length: perClass }, () => ({
    eventId: randomUUID(), correctsEventId: randomUUID(), installId: randomUUID(), modelVersion: '1.0.0', label: `proposed-c${c}`,
    embedding: Float32Array.from(p, (v) => Math.max(0, v + (rand() - 0.5) * 0.6)),
  })));
}

describe('checkCorrections', () => {
  it('keeps a clean batch whole', () => {
    const input = batch(6, 5);
    const { kept, report } = checkCorrections(input, opts);
    expect(report.poisoned).toBe(false);
    expect(report.suspicious).toBe(0);
    expect(kept).toHaveLength(30);
  });

  it('drops duplicate events and duplicate embeddings', () => {
    const input = batch(2, 4);
    const again = { ...input[0] };
    const sameEmbedding = { ...input[1], eventId: randomUUID(), correctsEventId: randomUUID() };
    const { kept, report } = checkCorrections([...input, again, sameEmbedding], opts);
    expect(report.duplicates).toBe(2);
    expect(kept).toHaveLength(8);
  });

  it('drops NaN, wrong-size and foreign-model embeddings', () => {
    const input = batch(2, 4);
    const nan = { ...input[0], eventId: randomUUID(), embedding: Float32Array.from(input[0].embedding, (v, i) => (i === 3 ? NaN : v)) };
    const short = { ...input[1], eventId: randomUUID(), embedding: input[1].embedding.slice(0, D - 1) };
    const foreign = { ...input[2], eventId: randomUUID(), modelVersion: '0.9.0' };
    const { report } = checkCorrections([...input, nan, short, foreign], opts);
    expect(report.badEmbedding).toBe(2);
    expect(report.wrongModel).toBe(1);
    expect(report.kept).toBe(8);
  });

  it('settles conflicting labels of one identification by majority, sets ties aside', () => {
    const input = batch(2, 4);
    const [a, b] = [input[0], input[4]]; // class 0 and class 1
    const target = randomUUID();
    const votes = [
      { ...a, eventId: randomUUID(), correctsEventId: target, embedding: a.embedding.map((v) => v + 0.01) },
      { ...a, eventId: randomUUID(), correctsEventId: target, embedding: a.embedding.map((v) => v + 0.02) },
      { ...b, eventId: randomUUID(), correctsEventId: target, embedding: a.embedding.map((v) => v + 0.03) },
    ];
    const tie = randomUUID();
    const tied = [
      { ...a, eventId: randomUUID(), correctsEventId: tie, embedding: a.embedding.map((v) => v + 0.04) },
      { ...b, eventId: randomUUID(), correctsEventId: tie, embedding: a.embedding.map((v) => v + 0.05) },
    ];
    const { kept, report } = checkCorrections([...input, ...votes, ...tied], opts);
    expect(report.conflictsSettled).toBe(3);
    expect(report.conflictsSetAside).toBe(2);
    const fromVote = kept.filter((c) => c.correctsEventId === target);
    expect(fromVote.map((c) => c.label)).toEqual([a.label]);
    expect(kept.some((c) => c.correctsEventId === tie)).toBe(false);
  });

  it('holds back classes with too few examples', () => {
    const input = [...batch(2, 4), ...batch(1, 2, 9).map((c) => ({ ...c, label: 'proposed-rare' }))];
    const { kept, report } = checkCorrections(input, opts);
    expect(report.heldBackClasses).toEqual({ 'proposed-rare': 2 });
    expect(kept.every((c) => c.label !== 'proposed-rare')).toBe(true);
    expect(report.warnings.join(' ')).toMatch(/proposed-rare/);
  });

  it('refuses a batch with random labels on 30% of it', () => {
    const input = batch(6, 5, 3);
    const rand = seededRandom(11);
    const poisoned = new Set<number>();
    while (poisoned.size < 9) poisoned.add(Math.floor(rand() * input.length));
    const labels = [...new Set(input.map((c) => c.label))];
    const bad = input.map((c, i) => (poisoned.has(i) ? { ...c, label: labels.filter((l) => l !== c.label)[Math.floor(rand() * 5)] } : c));
    const { kept, report } = checkCorrections(bad, opts);
    expect(report.poisoned).toBe(true);
    expect(report.suspicious).toBeGreaterThanOrEqual(9);
    expect(kept).toHaveLength(0);
  });

  it('trusts a label the current model agrees with, whatever its neighbours', () => {
    const input = batch(2, 5);
    const odd = { ...input[0], eventId: randomUUID(), correctsEventId: randomUUID(), label: 'lynx', embedding: input[0].embedding.map((v) => v + 0.001) };
    const few = { ...opts, minPerClass: 1 };
    const withoutModel = checkCorrections([...input, odd], { ...few, maxSuspiciousShare: 1 }, () => null);
    expect(withoutModel.kept.map((c) => c.eventId)).not.toContain(odd.eventId);
    const withModel = checkCorrections([...input, odd], { ...few, maxSuspiciousShare: 1 }, (c) => (c.label === 'lynx' ? 0.9 : null));
    expect(withModel.kept.map((c) => c.eventId)).toContain(odd.eventId);
  });
});
