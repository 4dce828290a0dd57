import { describe, expect, it } from 'vitest';
import {
  ABSTAIN, aggregateMetrics, bootstrapReference, correctedPairs, driftSeries, normalizeProposedName, qualityReport,
  type CorrectionFact, type IdentificationFact,
} from './monitoring.ts';
import { jsDistance, psi } from './drift.ts';

let n = 0;
// Each identification from an install of its own unless a test says otherwise.
const ident = (o: Partial<IdentificationFact> = {}): IdentificationFact => ({
  eventId: `e${n}`, installId: `u${n++}`, modelVersion: '1.0.0', hour: '2026-11-01T10:00:00.000Z', backend: 'wasm', top1: 'a', confidence: 0.9, abstain: false, totalMs: 100, ...o,
});
const corr = (o: Partial<CorrectionFact> = {}): CorrectionFact => ({
  eventId: `c${n++}`, correctsEventId: 'x', installId: 'i1', modelVersion: '1.0.0', hour: '2026-11-01T10:00:00.000Z',
  verdict: 'corrected', taxonId: 'b', proposedName: null, status: 'pending', receivedAt: '2026-11-01T10:30:00.000Z', grounding: 'grounded', counted: true, ...o,
});

describe('aggregateMetrics', () => {
  it('counts per version and day: abstain and correction rates, confidence histogram, latency per backend', () => {
    const ids = [
      ident({ confidence: 0.95, totalMs: 10, backend: 'webgpu' }),
      ident({ confidence: 0.55, totalMs: 20, backend: 'webgpu' }),
      ident({ confidence: 0.2, abstain: true, totalMs: 100 }),
      ident({ confidence: 0.9, totalMs: 300 }),
      ident({ modelVersion: '0.9.0' }),
      ident({ hour: '2026-11-02T01:00:00.000Z' }),
    ];
    const m = aggregateMetrics(ids, [corr(), corr({ verdict: 'confirmed', taxonId: 'a' })]);
    expect(m.map((r) => [r.modelVersion, r.bucket, r.identifications])).toEqual([['0.9.0', '2026-11-01', 1], ['1.0.0', '2026-11-01', 4], ['1.0.0', '2026-11-02', 1]]);
    const day = m[1];
    expect(day.abstainRate).toBe(0.25);
    expect(day.corrections).toBe(1);
    expect(day.confirmations).toBe(1);
    expect(day.correctionRate).toBe(0.25);
    expect(day.confidenceHistogram).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 0, 2]);
    expect(day.predictions).toEqual([{ taxonId: 'a', count: 3 }, { taxonId: ABSTAIN, count: 1 }]);
    expect(day.latency.webgpu).toEqual({ n: 2, p50: 15, p95: 19.5 });
    expect(day.latency.wasm.n).toBe(2);
  });

  it('buckets by hour too', () => {
    const m = aggregateMetrics([ident({ hour: '2026-11-01T10:00:00.000Z' }), ident({ hour: '2026-11-01T11:00:00.000Z' })], [], 'hour');
    expect(m.map((r) => r.bucket)).toEqual(['2026-11-01T10:00', '2026-11-01T11:00']);
  });
});

describe('correctedPairs', () => {
  it('counts predicted -> corrected, corrections only, most frequent first', () => {
    const pairs = correctedPairs([corr({ correctsEventId: 'p' }), corr({ correctsEventId: 'p' }), corr({ correctsEventId: 'q', taxonId: null, proposedName: 'Red fox' }), corr({ verdict: 'confirmed' })],
      (id) => ({ p: 'a', q: 'c' } as Record<string, string>)[id]);
    expect(pairs).toEqual([
      { modelVersion: '1.0.0', predicted: 'a', corrected: 'b', count: 3 - 1 },
      { modelVersion: '1.0.0', predicted: 'c', corrected: '"Red fox"', count: 1 },
    ]);
  });
});

describe('driftSeries', () => {
  const day = (d: string, mix: Array<[string, number]>, confidence = 0.9) =>
    mix.flatMap(([t, k]) => Array.from({ length: k }, () => ident({ hour: `${d}T05:00:00.000Z`, top1: t, confidence })));

  it('scores each day against the reference window with psi and jsDistance (a category new to the reference gets an empty reference bin)', () => {
    const ids = [...day('2026-11-01', [['a', 50], ['b', 50]]), ...day('2026-11-02', [['a', 50], ['b', 50]]), ...day('2026-11-03', [['a', 50], ['b', 25], ['c', 25]], 0.5)];
    const { points, references } = driftSeries(ids, { reference: () => ({ from: '2026-11-01', to: '2026-11-02' }), minEvents: 10 });
    expect(references['1.0.0']).toEqual({ from: '2026-11-01', to: '2026-11-02', n: 200 });
    expect(points.map((p) => [p.day, p.inReference, p.level])).toEqual([['2026-11-01', true, 'ok'], ['2026-11-02', true, 'ok'], ['2026-11-03', false, 'alert']]);
    const p3 = points[2];
    expect(p3.prediction.psi).toBeCloseTo(psi([100, 100, 0], [50, 25, 25]), 12);
    // By hand: p = (0.5, 0.5, 0), q = (0.5, 0.25, 0.25), m = (0.5, 0.375, 0.125):
    // KL(p||m) = 0.5 log2(0.5/0.375) = 0.207519; KL(q||m) = 0.25 log2(0.25/0.375) + 0.25 log2(0.25/0.125) = -0.146241 + 0.25 = 0.103759
    // JSD = (0.207519 + 0.103759) / 2 = 0.155639; distance = 0.394511
    expect(p3.prediction.js).toBeCloseTo(0.394511, 5);
    expect(p3.prediction.js).toBeCloseTo(jsDistance([100, 100, 0], [50, 25, 25]), 12);
    // Every confidence moved from bin 9 to bin 5: disjoint histograms.
    expect(p3.confidence.js).toBeCloseTo(1, 12);
  });

  it('uses the version\'s first days by default and skips thin days', () => {
    const ids = [...day('2026-11-01', [['a', 30]]), ...day('2026-11-09', [['b', 30]]), ...day('2026-11-10', [['b', 3]])];
    const { points, references } = driftSeries(ids, { referenceDays: 7, minEvents: 10 });
    expect(references['1.0.0']).toMatchObject({ from: '2026-11-01', to: '2026-11-07' });
    expect(points.map((p) => p.day)).toEqual(['2026-11-01', '2026-11-09']);
    expect(points[1].level).toBe('alert');
  });
});

describe('bootstrapReference', () => {
  it('raises nothing when the reference is large and stable, and is reproducible by seed', () => {
    const ref = Array.from({ length: 4000 }, (_, i) => ident({ top1: `t${i % 20}`, confidence: (i % 10) / 10 + 0.05 }));
    const a = bootstrapReference(ref, 1000, 20, 7);
    expect(a).toEqual({ resamples: 20, alerts: 0, warnings: 0 });
    expect(bootstrapReference(ref, 1000, 20, 7)).toEqual(a);
  });
});

describe('per-install weight in the metrics', () => {
  it('lets a flooding install move the rates like one busy install, and counts only grounded corrections within the cap', () => {
    const people = Array.from({ length: 200 }, (_, i) => ident({ abstain: i < 20 }));
    const fair = aggregateMetrics(people, people.slice(0, 16).map((e) => corr({ installId: e.installId, correctsEventId: e.eventId })));
    expect(fair[0].abstainRate).toBeCloseTo(0.1, 9);
    expect(fair[0].correctionRate).toBeCloseTo(0.08, 9);
    const flood = Array.from({ length: 10_000 }, (_, i) => ident({ eventId: `f${i}`, installId: 'flooder', abstain: true }));
    const floodCorr = flood.map((e) => corr({ installId: 'flooder', correctsEventId: e.eventId }));
    const junk = [corr({ grounding: 'waiting' }), corr({ grounding: 'unverified' }), corr({ counted: false })];
    const [m] = aggregateMetrics([...people, ...flood], [...people.slice(0, 16).map((e) => corr({ installId: e.installId, correctsEventId: e.eventId })), ...floodCorr, ...junk]);
    expect(m.identifications).toBe(10_200);
    expect(m.installs).toBe(201);
    // The flood weighs 50 events (the cap): (20 + 50) / 250 abstain, (16 + 50) / 250 corrected.
    expect(m.abstainRate).toBeCloseTo(70 / 250, 9);
    expect(m.correctionRate).toBeCloseTo(66 / 250, 9);
    // Unweighted, the flood would have made both nearly 1.
    expect(m.abstainRate).toBeLessThan(0.3);
  });
});

describe('qualityReport', () => {
  it('reports duplicates, refusals by reason, error rate, conflicting labels and proposed names per day', () => {
    const days = qualityReport(
      [{ day: '2026-11-01', kind: 'duplicate', count: 5 }, { day: '2026-11-01', kind: 'rejected:invalid-event', count: 3 }, { day: '2026-11-01', kind: 'rejected:unknown-taxon', count: 2 }],
      [{ day: '2026-11-01', count: 90 }],
      [corr({ correctsEventId: 'x' }), corr({ correctsEventId: 'x', taxonId: 'c', hour: '2026-11-02T00:00:00.000Z' }), corr({ correctsEventId: 'y', taxonId: null, proposedName: 'Red fox' })],
    );
    expect(days).toEqual([
      { day: '2026-11-01', duplicates: 5, rejected: { 'invalid-event': 3, 'unknown-taxon': 2 }, rejectedTotal: 5, stored: 90, errorRate: 0.05, conflictingLabels: 0, proposedNames: 1 },
      { day: '2026-11-02', duplicates: 0, rejected: {}, rejectedTotal: 0, stored: 0, errorRate: 0, conflictingLabels: 1, proposedNames: 0 },
    ]);
  });
});
