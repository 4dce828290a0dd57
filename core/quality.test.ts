import { describe, expect, it } from 'vitest';
import { qualityReport } from './quality.ts';
import type { CorrectionFact } from './telemetry-facts.ts';

let n = 0;
// Each identification from an install of its own unless a test says otherwise.
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

describe('qualityReport', () => {
  it('reports duplicates, refusals by reason, error rate, conflicting labels and proposed names per day', () => {
    const days = qualityReport(
      [
        { day: '2026-11-01', kind: 'duplicate', count: 5 },
        { day: '2026-11-01', kind: 'rejected:invalid-event', count: 3 },
        { day: '2026-11-01', kind: 'rejected:unknown-taxon', count: 2 },
      ],
      [{ day: '2026-11-01', count: 90 }],
      [corr({ correctsEventId: 'x' }), corr({ correctsEventId: 'x', taxonId: 'c', hour: '2026-11-02T00:00:00.000Z' }), corr({ correctsEventId: 'y', taxonId: null, proposedName: 'Red fox' })],
    );
    expect(days).toEqual([
      { day: '2026-11-01', duplicates: 5, rejected: { 'invalid-event': 3, 'unknown-taxon': 2 }, rejectedTotal: 5, stored: 90, errorRate: 0.05, conflictingLabels: 0, proposedNames: 1 },
      { day: '2026-11-02', duplicates: 0, rejected: {}, rejectedTotal: 0, stored: 0, errorRate: 0, conflictingLabels: 1, proposedNames: 0 },
    ]);
  });
});

describe('qualityReport with proposed names counted apart', () => {
  it('gives the same days from the groups of two or more corrections and the per-day count of proposed names', () => {
    const all = [
      corr({ correctsEventId: 'x' }),
      corr({ correctsEventId: 'x', taxonId: 'c', hour: '2026-11-02T00:00:00.000Z' }),
      corr({ correctsEventId: 'y', taxonId: null, proposedName: 'Red fox' }),
      corr({ correctsEventId: 'z' }),
    ];
    const full = qualityReport([], [{ day: '2026-11-01', count: 9 }], all);
    const apart = qualityReport([], [{ day: '2026-11-01', count: 9 }], all.slice(0, 2), [{ day: '2026-11-01', count: 1 }]);
    expect(apart).toEqual(full);
    expect(full.map((d) => [d.day, d.conflictingLabels, d.proposedNames])).toEqual([
      ['2026-11-01', 0, 1],
      ['2026-11-02', 1, 0],
    ]);
  });
});
