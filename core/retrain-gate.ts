/**
 * The retraining gate. Two questions, answered on separate evidence:
 *
 * 1. Is the candidate no worse on what the current model already knows?
 *    Judged only on photos whose labels both models know (launch taxa and
 *    "other"): photos of a new taxon are ones the current model can only
 *    miss, so counting them would favour the candidate by construction.
 *    Paired: both models on the same photos, McNemar's test on the answers
 *    that changed and a 95% interval for the difference in top-1.
 * 2. Has each new taxon shown that it works? Judged on held-out corrections
 *    from installs that did not train it, with a Wilson interval. A taxon
 *    that has not shown it yet is `collecting`: it is left out of the
 *    version, and the verdict says what it still needs.
 */
import { mcnemar, pairedCounts, pairedDifference, wilson, type McNemar, type PairedDifference, type Interval } from './intervals.ts';

export interface NewTaxonRules {
  /** Installs whose corrections are held out to judge a taxon; fewer and one install's habits decide. */
  minHeldOutInstalls: number;
  /** Installs left to train it. */
  minTrainInstalls: number;
  /** Share of a taxon's installs held out when it has more than the minimum. */
  heldOutShare: number;
  /** The 95% Wilson lower bound of held-out recall must reach this: right more often than wrong, shown. */
  minRecallLowerBound: number;
}

export interface GateRules {
  /**
   * Non-inferiority margin on shared-label top-1: the 95% lower bound of
   * (candidate - current) must not fall below -margin. 597 evaluation photos
   * cannot resolve much under a point (an unchanged candidate's interval is
   * already about +/-0.5 points), so a 2-point margin passes a candidate
   * whose point estimate loses at most about one point.
   */
  nonInferiorityMargin: number;
  /** McNemar: a candidate significantly worse at this level fails whatever the margin. */
  alpha: number;
  /**
   * Per-class rule: recall may not fall by more than this, judged only for
   * classes with at least `minClassSupport` shared-label photos. With 10
   * photos one photo is 10 points, so a 10-point limit never fails a class
   * on a single photo; below 10 photos one photo would be more than the
   * limit and the rule would judge noise.
   */
  maxClassRecallDrop: number;
  minClassSupport: number;
  newTaxon: NewTaxonRules;
}

export const DEFAULT_GATE: GateRules = {
  nonInferiorityMargin: 0.02,
  alpha: 0.05,
  maxClassRecallDrop: 0.1,
  minClassSupport: 10,
  newTaxon: { minHeldOutInstalls: 5, minTrainInstalls: 3, heldOutShare: 0.3, minRecallLowerBound: 0.5 },
};

/** How many of a taxon's installs are held out (0 when it has too few to judge it at all). */
export function heldOutInstallCount(installs: number, r: NewTaxonRules = DEFAULT_GATE.newTaxon): number {
  if (installs < r.minHeldOutInstalls + r.minTrainInstalls) return 0;
  return Math.min(installs - r.minTrainInstalls, Math.max(r.minHeldOutInstalls, Math.round(installs * r.heldOutShare)));
}

export interface NewTaxonEvidence {
  id: string;
  /** Distinct installs among its usable corrections. */
  installs: number;
  corrections: number;
  /** Held-out results (one correction per held-out install), or null when it had too few installs to hold any out. */
  heldOut: { n: number; hits: number } | null;
}

export interface NewTaxonDecision {
  id: string;
  status: 'admitted' | 'collecting';
  installs: number;
  corrections: number;
  heldOut: { n: number; hits: number; recall: number; lo: number; hi: number } | null;
  /** What it still needs, in words, and as more installs when a number can be given (null: more installs alone will not do). */
  needs: { moreInstalls: number | null; why: string } | null;
}

/** The smallest installs count whose held-out share reaches `heldOut` installs. */
function installsForHeldOut(heldOut: number, r: NewTaxonRules): number {
  let t = r.minHeldOutInstalls + r.minTrainInstalls;
  while (heldOutInstallCount(t, r) < heldOut) t++;
  return t;
}

export function judgeNewTaxon(e: NewTaxonEvidence, r: NewTaxonRules = DEFAULT_GATE.newTaxon): NewTaxonDecision {
  const base = { id: e.id, installs: e.installs, corrections: e.corrections };
  const minInstalls = r.minHeldOutInstalls + r.minTrainInstalls;
  if (!e.heldOut || e.heldOut.n < r.minHeldOutInstalls) {
    const more = Math.max(1, minInstalls - e.installs);
    return {
      ...base,
      status: 'collecting',
      heldOut: e.heldOut && { ...e.heldOut, recall: e.heldOut.n ? e.heldOut.hits / e.heldOut.n : NaN, ...wilson(e.heldOut.hits, e.heldOut.n) },
      needs: {
        moreInstalls: more,
        why: `corrections from ${e.installs} install(s); it needs ${minInstalls} (${r.minTrainInstalls} to train it, ${r.minHeldOutInstalls} held out to judge it): ${more} more install(s)`,
      },
    };
  }
  const { n, hits } = e.heldOut;
  const ci = wilson(hits, n);
  const held = { n, hits, recall: hits / n, lo: ci.lo, hi: ci.hi };
  if (ci.lo >= r.minRecallLowerBound) return { ...base, status: 'admitted', heldOut: held, needs: null };
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const recall = hits / n;
  if (recall <= r.minRecallLowerBound) {
    return {
      ...base,
      status: 'collecting',
      heldOut: held,
      needs: {
        moreInstalls: null,
        why: `held-out recall ${hits}/${n} (${pct(recall)}, 95% CI ${pct(ci.lo)}-${pct(ci.hi)}) is not above ${pct(r.minRecallLowerBound)}: more held-out installs alone cannot pass it; it needs more training corrections (see \`npm run pipeline -- curve\`)`,
      },
    };
  }
  // At the same recall, how many held-out installs would put the lower bound over the bar?
  let m = n;
  while (m < 100_000 && wilson(Math.round(recall * m), m).lo < r.minRecallLowerBound) m++;
  const total = installsForHeldOut(m, r);
  const more = Math.max(1, total - e.installs);
  return {
    ...base,
    status: 'collecting',
    heldOut: held,
    needs: {
      moreInstalls: more,
      why: `held-out recall ${hits}/${n} (${pct(recall)}, 95% CI ${pct(ci.lo)}-${pct(ci.hi)}): the lower bound must reach ${pct(r.minRecallLowerBound)}; at this recall that takes ${m} held-out installs, about ${more} more install(s) in all`,
    },
  };
}

export interface SharedLabelEvidence {
  /** Per shared-label photo: 1 when the model's top-1 is right. */
  currentHit: ArrayLike<number>;
  candidateHit: ArrayLike<number>;
  /** Per photo: its class index (into `names`). */
  labels: ArrayLike<number>;
  names: readonly string[];
  /** ECE change (candidate - current) with its paired bootstrap interval. */
  eceChange: { change: number; lo: number; hi: number };
}

export interface ClassCheck {
  label: string;
  support: number;
  current: number;
  candidate: number;
  judged: boolean;
}

export interface NonRegression {
  pass: boolean;
  top1: PairedDifference;
  mcnemar: McNemar;
  perClass: ClassCheck[];
  eceChange: { change: number; lo: number; hi: number };
}

export interface GateVerdict {
  pass: boolean;
  reasons: string[];
  nonRegression: NonRegression;
  newTaxa: NewTaxonDecision[];
  /** New taxa that enter the version. */
  admitted: string[];
}

const pts = (x: number) => `${(x * 100).toFixed(1)} points`;
const pc = (x: number) => `${(x * 100).toFixed(1)}%`;
const ci = (i: Interval) => `[${(i.lo * 100).toFixed(1)}, ${(i.hi * 100).toFixed(1)}]`;

export interface GateInput {
  shared: SharedLabelEvidence;
  newTaxa: NewTaxonDecision[];
  /** The launch rows were retrained (corrections named launch taxa, or a base-only run). */
  launchRowsChanged: boolean;
  /** Demand a significant improvement on shared labels (a base-only head has nothing else to offer). */
  requireImprovement?: boolean;
}

export function gate(input: GateInput, rules: GateRules = DEFAULT_GATE): GateVerdict {
  const { shared } = input;
  const n = shared.labels.length;
  const cur = Array.from({ length: n }, (_, i) => !!shared.currentHit[i]);
  const cand = Array.from({ length: n }, (_, i) => !!shared.candidateHit[i]);
  const table = pairedCounts(cur, cand);
  const top1 = pairedDifference(table);
  const test = mcnemar(table.onlyCurrent, table.onlyCandidate);
  const reasons: string[] = [];
  if (!n) reasons.push('no shared-label photos to judge non-regression on');
  if (top1.lo < -rules.nonInferiorityMargin)
    reasons.push(`shared-label top-1 ${pc(top1.current)} -> ${pc(top1.candidate)}: the 95% interval of the change ${ci(top1)} points reaches below -${pts(rules.nonInferiorityMargin)}`);
  if (test.losses > test.gains && test.p < rules.alpha)
    reasons.push(`significantly worse on shared labels: ${test.losses} photos lost, ${test.gains} gained (McNemar ${test.method}, p = ${test.p.toPrecision(2)})`);
  const perClass: ClassCheck[] = shared.names
    .map((label, k) => {
      let support = 0,
        c0 = 0,
        c1 = 0;
      for (let i = 0; i < n; i++)
        if (shared.labels[i] === k) {
          support++;
          c0 += cur[i] ? 1 : 0;
          c1 += cand[i] ? 1 : 0;
        }
      return { label, support, current: support ? c0 / support : NaN, candidate: support ? c1 / support : NaN, judged: support >= rules.minClassSupport };
    })
    .filter((c) => c.support > 0);
  for (const c of perClass) {
    if (c.judged && c.current - c.candidate > rules.maxClassRecallDrop + 1e-12)
      reasons.push(`recall of ${c.label} fell ${pts(c.current - c.candidate)} on ${c.support} photos (${pc(c.current)} -> ${pc(c.candidate)}), more than ${pts(rules.maxClassRecallDrop)}`);
  }
  if (shared.eceChange.lo > 0)
    reasons.push(`calibration significantly worse: ECE change ${shared.eceChange.change.toFixed(4)} (95% CI ${shared.eceChange.lo.toFixed(4)} to ${shared.eceChange.hi.toFixed(4)})`);
  const nonRegressionPass = reasons.length === 0;
  if (input.requireImprovement && !(top1.lo > 0)) reasons.push(`no significant improvement on shared labels: change ${pts(top1.difference)}, 95% interval ${ci(top1)} points includes 0`);
  const admitted = input.newTaxa.filter((t) => t.status === 'admitted').map((t) => t.id);
  if (reasons.length === 0 && !admitted.length && !input.launchRowsChanged) {
    const waiting = input.newTaxa.length;
    reasons.push(
      waiting ? `nothing to register: ${waiting} new taxon/taxa still collecting (${input.newTaxa.map((t) => t.id).join(', ')})` : 'nothing to register: no new taxon and no launch taxon retrained',
    );
  }
  const nonRegression: NonRegression = { pass: nonRegressionPass, top1, mcnemar: test, perClass, eceChange: shared.eceChange };
  const pass = reasons.length === 0;
  if (pass)
    reasons.push(
      `shared-label top-1 ${pc(top1.current)} -> ${pc(top1.candidate)} (change ${ci(top1)} points, ${test.losses} lost / ${test.gains} gained, McNemar p = ${test.p.toPrecision(2)}); ECE change ${shared.eceChange.change.toFixed(4)}; new taxa admitted: ${admitted.join(', ') || 'none'}`,
    );
  return { pass, reasons, nonRegression, newTaxa: input.newTaxa, admitted };
}
