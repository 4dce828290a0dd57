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
  return protos.flatMap((p, c) =>
    Array.from({ length: perClass }, () => ({
      eventId: randomUUID(),
      correctsEventId: randomUUID(),
      installId: randomUUID(),
      modelVersion: '1.0.0',
      label: `proposed-c${c}`,
      embedding: Float32Array.from(p, (v) => Math.max(0, v + (rand() - 0.5) * 0.6)),
    })),
  );
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

/** The poisoning test as first written (centred unit vectors formed one by one): the reference the fast one must match. */
function referenceSuspicious(rows: TrainingCorrection[], refs: Array<{ label: string; embedding: Float32Array }>, agreement: (c: TrainingCorrection) => number | null, D: number): number[] {
  const pool = [...rows.map((c) => ({ label: c.label, embedding: c.embedding })), ...refs];
  const mean = new Float64Array(D);
  for (const p of pool) for (let j = 0; j < D; j++) mean[j] += p.embedding[j] / pool.length;
  const centred = (e: Float32Array) => {
    const v = new Float64Array(D);
    let n = 0;
    for (let j = 0; j < D; j++) {
      v[j] = e[j] - mean[j];
      n += v[j] * v[j];
    }
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < D; j++) v[j] /= n;
    return v;
  };
  const sums = new Map<string, { sum: Float64Array; n: number }>();
  for (const p of pool) {
    const v = centred(p.embedding);
    const s = sums.get(p.label) ?? { sum: new Float64Array(D), n: 0 };
    for (let j = 0; j < D; j++) s.sum[j] += v[j];
    s.n++;
    sums.set(p.label, s);
  }
  const out: number[] = [];
  rows.forEach((c, i) => {
    const p = agreement(c);
    if (p !== null && p >= 0.05) return;
    const v = centred(c.embedding);
    let best = '',
      bestSim = -Infinity;
    for (const [label, cs] of sums) {
      const own = label === c.label;
      if ((own ? cs.n - 1 : cs.n) < 1) continue;
      let dot = 0;
      for (let j = 0; j < D; j++) dot += cs.sum[j] * v[j];
      const sn = cs.sum.reduce((a, x) => a + x * x, 0);
      const sim = (own ? dot - 1 : dot) / Math.sqrt(Math.max(own ? sn - 2 * dot + 1 : sn, 1e-12));
      if (sim > bestSim) {
        bestSim = sim;
        best = label;
      }
    }
    if (best !== c.label) out.push(i);
  });
  return out;
}

describe('poisoning test without forming centred vectors', () => {
  it('flags exactly the corrections the direct computation flags, references included', () => {
    const D2 = 256;
    const rand = seededRandom(9);
    const protos = Array.from({ length: 6 }, () => Float32Array.from({ length: D2 }, () => rand() * 3));
    const make = (c: number, label: number) => ({
      eventId: randomUUID(),
      correctsEventId: randomUUID(),
      installId: randomUUID(),
      modelVersion: '1.0.0',
      label: `proposed-c${label}`,
      embedding: Float32Array.from(protos[c], (v) => Math.max(0, v + (rand() - 0.5) * 4)),
    });
    // Noisy classes, a fifth of them labelled as another class; a few references, one label only there.
    const rows = Array.from({ length: 600 }, (_, i) => make(i % 5, i % 5 === 0 && i % 3 === 0 ? 1 : i % 5));
    const refs = Array.from({ length: 40 }, (_, i) => ({ label: `proposed-c${i % 6}`, embedding: make(i % 6, 0).embedding }));
    const agreement = (c: TrainingCorrection) => (c.label === 'proposed-c2' ? 0.5 : null);
    const expected = referenceSuspicious(rows, refs, agreement, D2);
    expect(expected.length).toBeGreaterThan(10);
    const { kept, report } = checkCorrections(rows, { ...opts, embeddingSize: D2, minPerClass: 1, maxSuspiciousShare: 1 }, agreement, refs);
    expect(report.suspicious).toBe(expected.length);
    const flagged = new Set(expected.map((i) => rows[i]));
    expect(kept).toEqual(rows.filter((c) => !flagged.has(c)));
  });
});
