import { describe, expect, it } from 'vitest';
import { wilson } from './intervals.ts';
import { countKey, histogramMedian, packDayProfile, packFigures, packReport, packRunOf, runCounts, weightedCounts, weightedDaysFromRuns, type PackRun } from './pack-metrics.ts';

const run = (over: Partial<PackRun> = {}): PackRun => ({
  eventId: 'e',
  installId: 'a',
  packId: 'inat-birds',
  packVersion: '1.0.0',
  hour: '2026-11-01T10:00:00.000Z',
  routedBy: 'rollup',
  top1: 'robin',
  confidence: 0.8,
  ...over,
});

describe('pack metrics', () => {
  it('reads the pack an identification ran, and nothing from one that ran none', () => {
    const payload = { top5: [{ taxonId: 'bird', p: 0.9 }], pack: { id: 'inat-birds', version: '1.2.0', routedBy: 'user', top5: [{ taxonId: 'robin', p: 0.7 }] } };
    expect(packRunOf('e1', 'ABC', '2026-11-01T10:00:00.000Z', payload)).toEqual(run({ eventId: 'e1', installId: 'abc', packVersion: '1.2.0', routedBy: 'user', confidence: 0.7 }));
    expect(packRunOf('e1', 'abc', '2026-11-01T10:00:00.000Z', { top5: payload.top5 })).toBeNull();
    expect(runCounts(run())).toEqual([
      ['runs', '', 1],
      ['routed', 'rollup', 1],
      ['label', 'robin', 1],
      ['conf', '8', 1],
      ['confsum', '', 800_000],
    ]);
  });

  it('weighs an install past the cap the same from rollup counts as from its runs', () => {
    // Install a: 100 runs (weighs 50 in all), half corrected; install b: 10 runs, one corrected; cap 50.
    const runs = [
      ...Array.from({ length: 100 }, (_, i) => run({ installId: 'a', top1: i % 2 ? 'robin' : 'wren', routedBy: i % 4 ? 'rollup' : 'user' })),
      ...Array.from({ length: 10 }, () => run({ installId: 'b', confidence: 0.35 })),
    ];
    const verdicts = [
      ...Array.from({ length: 50 }, () => ({ installId: 'a', packId: 'inat-birds', packVersion: '1.0.0', hour: runs[0].hour, verdict: 'corrected' as const })),
      { installId: 'b', packId: 'inat-birds', packVersion: '1.0.0', hour: runs[0].hour, verdict: 'corrected' as const },
    ];
    const [raw] = weightedDaysFromRuns(runs, verdicts, 50);
    expect(raw.runs).toBe(110);
    expect(raw.weighted.get(countKey('runs', ''))).toBeCloseTo(60, 12);
    expect(raw.weighted.get(countKey('verdict', 'corrected'))).toBeCloseTo(26, 12);
    // The rollups' form: plain counts of everyone, and install a's own counts apart.
    const plain = new Map<string, number>();
    const heavy = new Map<string, number>();
    for (const r of runs) for (const [dim, key, by] of runCounts(r)) for (const m of r.installId === 'a' ? [plain, heavy] : [plain]) m.set(countKey(dim, key), (m.get(countKey(dim, key)) ?? 0) + by);
    plain.set(countKey('verdict', 'corrected'), 51);
    heavy.set(countKey('verdict', 'corrected'), 50);
    const w = weightedCounts({ counts: plain, heavy: [{ n: 100, counts: heavy }] }, 50);
    for (const [k, v] of raw.weighted) expect(w.get(k), k).toBeCloseTo(v, 6);
    const f = packFigures('inat-birds', '1.0.0', 110, w);
    expect(f.correctionRate).toBeCloseTo(26 / 60, 12);
    expect(f.correctionInterval).toEqual(wilson(26, w.get(countKey('runs', ''))!));
    expect(f.tappedShare).toBeCloseTo(12.5 / 60, 12);
    expect(f.meanConfidence).toBeCloseTo((50 * 0.8 + 10 * 0.35) / 60, 6);
    expect(f.topLabels.map((l) => l.taxonId)).toEqual(['robin', 'wren']);
  });

  it('takes the median within its bin, and adds days into one row per version', () => {
    expect(histogramMedian([0, 0, 0, 0, 0, 0, 0, 0, 0, 4])).toBeCloseTo(0.95, 12);
    expect(histogramMedian([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBeCloseTo(0.1, 12);
    expect(histogramMedian(new Array<number>(10).fill(0))).toBe(0);
    const days = weightedDaysFromRuns([run(), run({ hour: '2026-11-02T10:00:00.000Z', routedBy: 'user' })], []);
    const report = packReport(days);
    expect(report.series.map((s) => [s.day, s.runs, s.tappedShare])).toEqual([
      ['2026-11-01', 1, 0],
      ['2026-11-02', 1, 1],
    ]);
    expect(report.versions).toHaveLength(1);
    expect(report.versions[0].tappedShare).toBe(0.5);
    expect(packDayProfile(days[0])).toMatchObject({ modelVersion: 'pack:inat-birds@1.0.0', day: '2026-11-01', n: 1, labels: new Map([['robin', 1]]) });
  });
});
