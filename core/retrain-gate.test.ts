import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE, gate, heldOutInstallCount, judgeNewTaxon, type SharedLabelEvidence } from './retrain-gate.ts';

/** 600 shared-label photos: 500 "other" (class 1), 100 of one launch taxon (class 0); `lose` / `gain` photos of class `k` flip. */
function shared(opts: { lose?: number; gain?: number; k?: number; ece?: { change: number; lo: number; hi: number } } = {}): SharedLabelEvidence {
  const labels = Array.from({ length: 600 }, (_, i) => (i < 100 ? 0 : 1));
  const cur = labels.map((_, i) => (i % 10 === 9 ? 0 : 1)); // 90% right
  const cand = cur.slice();
  const k = opts.k ?? 1;
  let lose = opts.lose ?? 0,
    gain = opts.gain ?? 0;
  for (let i = 0; i < 600; i++) {
    if (labels[i] !== k) continue;
    if (lose && cur[i]) {
      cand[i] = 0;
      lose--;
    } else if (gain && !cur[i]) {
      cand[i] = 1;
      gain--;
    }
  }
  return { currentHit: cur, candidateHit: cand, labels, names: ['launch-a', 'other'], eceChange: opts.ece ?? { change: 0, lo: -0.01, hi: 0.01 } };
}
const admitted = judgeNewTaxon({ id: 'proposed-x', installs: 10, corrections: 10, heldOut: { n: 5, hits: 5 } });

describe('gate: non-regression on shared labels', () => {
  it('passes an unchanged candidate that adds a taxon which showed it works', () => {
    const v = gate({ shared: shared(), newTaxa: [admitted], launchRowsChanged: false });
    expect(v.pass).toBe(true);
    expect(v.admitted).toEqual(['proposed-x']);
    expect(v.nonRegression.top1.lo).toBeLessThan(0);
    expect(v.nonRegression.top1.hi).toBeGreaterThan(0);
    expect(v.nonRegression.mcnemar).toMatchObject({ losses: 0, gains: 0, p: 1 });
  });
  it('passes a small loss the data cannot tell from noise', () => {
    const v = gate({ shared: shared({ lose: 3 }), newTaxa: [admitted], launchRowsChanged: false });
    expect(v.pass).toBe(true);
    expect(v.nonRegression.mcnemar.losses).toBe(3);
  });
  it('fails a candidate that is significantly worse (McNemar), and one whose interval reaches past the margin', () => {
    const sig = gate({ shared: shared({ lose: 8 }), newTaxa: [admitted], launchRowsChanged: false });
    expect(sig.pass).toBe(false);
    expect(sig.reasons.join(' ')).toMatch(/significantly worse on shared labels: 8 photos lost, 0 gained/);
    // 20 lost and 14 gained: not significant (p ~0.39), but the interval reaches beyond -2 points.
    const wide = gate({ shared: shared({ lose: 20, gain: 14 }), newTaxa: [admitted], launchRowsChanged: false });
    expect(wide.nonRegression.mcnemar.p).toBeGreaterThan(0.05);
    expect(wide.nonRegression.top1.lo).toBeLessThan(-0.02);
    expect(wide.pass).toBe(false);
    expect(wide.reasons.join(' ')).toMatch(/reaches below -2\.0 points/);
  });
  it('judges a class one by one only from 10 photos on', () => {
    // 3 of launch-a's 100 photos lost: 3 points, under the 10-point limit.
    expect(gate({ shared: shared({ lose: 3, k: 0 }), newTaxa: [admitted], launchRowsChanged: false }).pass).toBe(true);
    // A 9-photo class that loses 2 photos (22 points) is not judged; the same loss on a 10-photo class is.
    const small = (support: number): SharedLabelEvidence => {
      const labels = Array.from({ length: 600 }, (_, i) => (i < support ? 0 : 1));
      const cur = labels.map(() => 1),
        cand = labels.map((_, i) => (i < 2 ? 0 : 1));
      return { currentHit: cur, candidateHit: cand, labels, names: ['launch-a', 'other'], eceChange: { change: 0, lo: -0.01, hi: 0.01 } };
    };
    const nine = gate({ shared: small(9), newTaxa: [admitted], launchRowsChanged: false });
    expect(nine.nonRegression.perClass.find((c) => c.label === 'launch-a')).toMatchObject({ support: 9, judged: false });
    expect(nine.pass).toBe(true);
    const ten = gate({ shared: small(10), newTaxa: [admitted], launchRowsChanged: false });
    expect(ten.pass).toBe(false);
    expect(ten.reasons.join(' ')).toMatch(/recall of launch-a fell 20\.0 points on 10 photos/);
  });
  it('fails on significantly worse calibration, not on an ECE that is merely higher', () => {
    expect(gate({ shared: shared({ ece: { change: 0.004, lo: -0.002, hi: 0.011 } }), newTaxa: [admitted], launchRowsChanged: false }).pass).toBe(true);
    const v = gate({ shared: shared({ ece: { change: 0.03, lo: 0.012, hi: 0.05 } }), newTaxa: [admitted], launchRowsChanged: false });
    expect(v.pass).toBe(false);
    expect(v.reasons.join(' ')).toMatch(/calibration significantly worse/);
  });
  it('a base-only head must be significantly better', () => {
    const small = gate({ shared: shared({ gain: 3 }), newTaxa: [], launchRowsChanged: true, requireImprovement: true });
    expect(small.pass).toBe(false);
    expect(small.nonRegression.pass).toBe(true);
    expect(small.reasons.join(' ')).toMatch(/no significant improvement/);
    expect(gate({ shared: shared({ gain: 30 }), newTaxa: [], launchRowsChanged: true, requireImprovement: true }).pass).toBe(true);
  });
  it('registers nothing when every new taxon is still collecting and no launch row changed', () => {
    const waiting = judgeNewTaxon({ id: 'proposed-y', installs: 3, corrections: 9, heldOut: null });
    const v = gate({ shared: shared(), newTaxa: [waiting], launchRowsChanged: false });
    expect(v.pass).toBe(false);
    expect(v.nonRegression.pass).toBe(true);
    expect(v.admitted).toEqual([]);
    expect(v.reasons[0]).toMatch(/nothing to register: 1 new taxon\/taxa still collecting \(proposed-y\)/);
  });
});

describe('judgeNewTaxon', () => {
  const r = DEFAULT_GATE.newTaxon;
  it('holds out 5 installs (30% when there are more) and keeps 3 to train', () => {
    expect(heldOutInstallCount(7, r)).toBe(0);
    expect(heldOutInstallCount(8, r)).toBe(5);
    expect(heldOutInstallCount(10, r)).toBe(5);
    expect(heldOutInstallCount(40, r)).toBe(12);
  });
  it('admits a taxon whose held-out recall lower bound reaches 50%', () => {
    expect(admitted).toMatchObject({ status: 'admitted', needs: null, heldOut: { n: 5, hits: 5, recall: 1, lo: expect.closeTo(0.566, 3) } });
  });
  it('keeps a taxon from too few installs collecting and says how many more installs it needs', () => {
    const d = judgeNewTaxon({ id: 'proposed-y', installs: 3, corrections: 12, heldOut: null });
    expect(d.status).toBe('collecting');
    expect(d.needs).toMatchObject({ moreInstalls: 5 });
    expect(d.needs!.why).toMatch(/corrections from 3 install\(s\); it needs 8/);
  });
  it('keeps 4/5 collecting (lower bound 38%) and says how many held-out installs 80% recall needs', () => {
    const d = judgeNewTaxon({ id: 'proposed-z', installs: 10, corrections: 10, heldOut: { n: 5, hits: 4 } });
    expect(d.status).toBe('collecting');
    expect(d.heldOut!.lo).toBeCloseTo(0.3755, 3);
    // At 80%, the Wilson lower bound passes 50% from 11 held-out installs (9/11: 0.523), i.e. 35 installs at 30% held out (round(10.5) = 11): 25 more.
    expect(d.needs!.moreInstalls).toBe(25);
    expect(d.needs!.why).toMatch(/takes 11 held-out installs/);
  });
  it('says more installs alone will not do when held-out recall is at or below 50%', () => {
    const d = judgeNewTaxon({ id: 'proposed-w', installs: 10, corrections: 10, heldOut: { n: 5, hits: 2 } });
    expect(d).toMatchObject({ status: 'collecting', needs: { moreInstalls: null } });
    expect(d.needs!.why).toMatch(/more training corrections/);
  });
});
