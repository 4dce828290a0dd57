import { describe, expect, it } from 'vitest';
import { bootstrapReference, driftSeries } from './drift-series.ts';
import { jsDistance, psi } from './drift.ts';
import type { IdentificationFact } from './telemetry-facts.ts';

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

describe('driftSeries', () => {
  const day = (d: string, mix: Array<[string, number]>, confidence = 0.9) => mix.flatMap(([t, k]) => Array.from({ length: k }, () => ident({ hour: `${d}T05:00:00.000Z`, top1: t, confidence })));

  it('scores each day against the reference window with psi and jsDistance (a category new to the reference gets an empty reference bin)', () => {
    const ids = [
      ...day('2026-11-01', [
        ['a', 50],
        ['b', 50],
      ]),
      ...day('2026-11-02', [
        ['a', 50],
        ['b', 50],
      ]),
      ...day(
        '2026-11-03',
        [
          ['a', 50],
          ['b', 25],
          ['c', 25],
        ],
        0.5,
      ),
    ];
    const { points, references } = driftSeries(ids, { reference: () => ({ from: '2026-11-01', to: '2026-11-02' }), minEvents: 10 });
    expect(references['1.0.0']).toEqual({ from: '2026-11-01', to: '2026-11-02', n: 200 });
    expect(points.map((p) => [p.day, p.inReference, p.level])).toEqual([
      ['2026-11-01', true, 'ok'],
      ['2026-11-02', true, 'ok'],
      ['2026-11-03', false, 'alert'],
    ]);
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

  it("uses the version's first days by default and skips thin days", () => {
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
