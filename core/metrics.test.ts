import { describe, expect, it } from 'vitest';
import { aggregateMetrics, correctedPairs, weighted, type HeavyExcess } from './metrics.ts';
import { ABSTAIN, type CorrectionFact, type IdentificationFact } from './telemetry-facts.ts';

let n = 0;
// Each identification from an install of its own unless a test says otherwise.
const ident = (o: Partial<IdentificationFact> = {}): IdentificationFact => ({
  eventId: `e${n}`,
  installId: `u${n++}`,
  modelVersion: '1.0.0',
  hour: '2026-11-01T10:00:00.000Z',
  backend: 'wasm',
  top1: 'a',
  confidence: 0.9,
  abstain: false,
  totalMs: 100,
  ...o,
});
const corr = (o: Partial<CorrectionFact> = {}): CorrectionFact => ({
  eventId: `c${n++}`,
  correctsEventId: 'x',
  installId: 'i1',
  modelVersion: '1.0.0',
  hour: '2026-11-01T10:00:00.000Z',
  verdict: 'corrected',
  taxonId: 'b',
  proposedName: null,
  status: 'pending',
  receivedAt: '2026-11-01T10:30:00.000Z',
  grounding: 'grounded',
  counted: true,
  ...o,
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
    expect(m.map((r) => [r.modelVersion, r.bucket, r.identifications])).toEqual([
      ['0.9.0', '2026-11-01', 1],
      ['1.0.0', '2026-11-01', 4],
      ['1.0.0', '2026-11-02', 1],
    ]);
    const day = m[1];
    expect(day.abstainRate).toBe(0.25);
    expect(day.corrections).toBe(1);
    expect(day.confirmations).toBe(1);
    expect(day.correctionRate).toBe(0.25);
    expect(day.confidenceHistogram).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 0, 2]);
    expect(day.predictions).toEqual([
      { taxonId: 'a', count: 3 },
      { taxonId: ABSTAIN, count: 1 },
    ]);
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
    const pairs = correctedPairs(
      [corr({ correctsEventId: 'p' }), corr({ correctsEventId: 'p' }), corr({ correctsEventId: 'q', taxonId: null, proposedName: 'Red fox' }), corr({ verdict: 'confirmed' })],
      (id) => (({ p: 'a', q: 'c' }) as Record<string, string>)[id],
    );
    expect(pairs).toEqual([
      { modelVersion: '1.0.0', predicted: 'a', corrected: 'b', count: 3 - 1 },
      { modelVersion: '1.0.0', predicted: 'c', corrected: '"Red fox"', count: 1 },
    ]);
  });
});

describe('per-install weight in the metrics', () => {
  it('lets a flooding install move the rates like one busy install, and counts only grounded corrections within the cap', () => {
    const people = Array.from({ length: 200 }, (_, i) => ident({ abstain: i < 20 }));
    const fair = aggregateMetrics(
      people,
      people.slice(0, 16).map((e) => corr({ installId: e.installId, correctsEventId: e.eventId })),
    );
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

describe('weighted: installs past the cap one by one or already summed', () => {
  it('takes off the same whether the reader sends each install or their sum', () => {
    const cap = 50;
    const plain = {
      n: 400,
      labels: new Map([
        ['a', 250],
        ['b', 150],
      ]),
      confidence: [100, 300],
      corrected: 40,
      confirmed: 20,
    };
    const installs = [
      {
        n: 200,
        labels: new Map([
          ['a', 180],
          ['b', 20],
        ]),
        confidence: [50, 150],
        corrected: 30,
        confirmed: 5,
      },
      { n: 100, labels: new Map([['b', 100]]), confidence: [0, 100], corrected: 4, confirmed: 10 },
    ];
    const one = weighted({ ...plain, heavy: installs }, cap);
    const excess: HeavyExcess = { weight: 0, labels: new Map(), confidence: [0, 0], corrected: 0, confirmed: 0 };
    for (const h of installs) {
      const off = 1 - cap / h.n;
      excess.weight += h.n - cap;
      for (const [k, v] of h.labels) excess.labels.set(k, (excess.labels.get(k) ?? 0) + off * v);
      h.confidence.forEach((v, i) => (excess.confidence[i] += off * v));
      excess.corrected += off * h.corrected;
      excess.confirmed += off * h.confirmed;
    }
    const summed = weighted({ ...plain, heavy: [], heavyExcess: excess }, cap);
    expect(summed.weight).toBe(one.weight);
    expect(one.weight).toBe(400 - 150 - 50);
    for (const k of ['a', 'b']) expect(summed.labels.get(k)).toBeCloseTo(one.labels.get(k)!, 9);
    summed.confidence.forEach((v, i) => expect(v).toBeCloseTo(one.confidence[i], 9));
    expect(summed.corrected).toBeCloseTo(one.corrected, 9);
    expect(summed.confirmed).toBeCloseTo(one.confirmed, 9);
  });
});
