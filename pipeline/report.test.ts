import { describe, expect, it } from 'vitest';
import { curveSvg, curveTable, type CurveRow } from './report.ts';

const row = (pool: string, size: number, recall: number): CurveRow => ({
  pool,
  size,
  repeats: 3,
  taxa: 6,
  heldOutPerSplit: 60,
  recall,
  lo: recall - 0.1,
  hi: recall + 0.1,
  min: recall - 0.05,
  max: recall + 0.05,
  launchChange: -0.005,
  launchLo: -0.02,
  launchHi: 0.01,
});

describe('the curve in the report', () => {
  const rows = [row('oxford', 1, 0.3), row('oxford', 5, 0.75), row('tiny', 1, 0.1), row('tiny', 20, 0.8)];
  it('draws one line and one band per pool, a point per size, on a log axis', () => {
    const svg = curveSvg(rows);
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<polygon /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    // Higher recall is higher on the chart (smaller y): oxford's 5-correction point above its 1-correction point.
    const ys = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => Number(m[2]));
    expect(ys[1]).toBeLessThan(ys[0]);
    expect(svg).toContain('oxford: 5 per taxon, recall 75.0%');
    expect(curveSvg([])).toBe('');
  });
  it('tabulates recall with its interval and the launch effect', () => {
    const t = curveTable(rows);
    expect(t).toContain('<td>75.0% (65.0%-85.0%)</td>');
    expect(t).toContain('-0.5 (-2.0 to +1.0)');
  });
});
