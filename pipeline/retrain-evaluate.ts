/**
 * A run's evaluation: each new taxon on its held-out installs (admitted or
 * collecting), the version's head (launch rows and admitted taxa only), and
 * the gate's non-regression half on photos both models can name.
 */
import { predictAll, type Head } from '../core/head-train.ts';
import { bootstrapEce, evaluate, pairedEceChange, topOne, type EceInterval, type Evaluation } from '../core/classifier-metrics.ts';
import { gate, judgeNewTaxon, type GateRules, type GateVerdict, type NewTaxonDecision } from '../core/retrain-gate.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import type { ModelVersion } from '../core/manifest.ts';
import { batchPredict, selectRows } from './base-head.ts';
import type { PhotoFeatures } from './embed-cache.ts';
import type { TrainingCorrection } from './quality.ts';
import { softmax, toExamples } from './train-candidate.ts';
import type { EvalPhoto } from './retrain-data.ts';
import type { TrainingPlan } from './retrain-train.ts';

export interface SharedLabelSummary {
  n: number;
  current: { top1: number; ece: EceInterval };
  candidate: { top1: number; ece: EceInterval };
  top1Change: { difference: number; lo: number; hi: number };
  mcnemar: { losses: number; gains: number; p: number; method: string };
  eceChange: { change: number; lo: number; hi: number };
}

const installsOf = (l: string, from: readonly TrainingCorrection[]) => new Set(from.filter((c) => c.label === l).map((c) => c.installId)).size;

/** Decisions for new taxa none of whose corrections passed the checks: all collecting. */
export function heldBackDecisions(heldBackNew: readonly string[], corrections: readonly TrainingCorrection[], rules: GateRules): NewTaxonDecision[] {
  return heldBackNew.map((l) => judgeNewTaxon({ id: l, installs: installsOf(l, corrections), corrections: corrections.filter((c) => c.label === l).length, heldOut: null }, rules.newTaxon));
}

/** Each new taxon on its held-out installs (the head with every judged row), then its decision. */
export async function judgeNewTaxa(
  head: Head,
  temperature: number,
  plan: TrainingPlan,
  heldBackNew: readonly string[],
  kept: readonly TrainingCorrection[],
  corrections: readonly TrainingCorrection[],
  rules: GateRules,
  E: number,
): Promise<{ decisions: NewTaxonDecision[]; heldOutEvents: Record<string, string[]>; heldOutHits: Record<string, boolean[]> }> {
  const decisions: NewTaxonDecision[] = [];
  const heldOutEvents: Record<string, string[]> = {};
  const heldOutHits: Record<string, boolean[]> = {};
  for (const l of [...plan.newLabelsAll, ...heldBackNew].sort()) {
    const held = plan.byInstall.heldOut.get(l);
    let heldOut: { n: number; hits: number } | null = null;
    if (held) {
      const probs = await batchPredict(head, toExamples(held.map(plan.corrItem), plan.classIndex, E), temperature);
      const k = plan.classIndex.get(l)!;
      heldOutHits[l] = probs.map((p) => p.indexOf(Math.max(...p)) === k);
      heldOut = { n: held.length, hits: heldOutHits[l].filter(Boolean).length };
      heldOutEvents[l] = held.map((c) => c.eventId);
    }
    const from = plan.newLabelsAll.includes(l) ? kept : corrections;
    decisions.push(judgeNewTaxon({ id: l, installs: installsOf(l, from), corrections: from.filter((c) => c.label === l).length, heldOut }, rules.newTaxon));
  }
  return { decisions, heldOutEvents, heldOutHits };
}

/**
 * The version's head: launch rows and the admitted new taxa only. Removing a row can only keep or raise the
 * recall measured for the others (the argmax runs over fewer rows).
 */
export function versionHead(head: Head, plan: TrainingPlan, parentLabels: readonly string[], admitted: readonly string[]) {
  const finalLearned = [...parentLabels, ...admitted];
  const finalLabels = [...finalLearned, OTHER_LABEL];
  return {
    finalLabels,
    finalIndex: new Map(finalLabels.map((l, i) => [l, i])),
    finalHead: selectRows(
      head,
      finalLearned.map((l) => plan.classIndex.get(l)!),
    ),
    FK: finalLearned.length,
  };
}

export interface SharedLabelResult {
  evalItems: Array<EvalPhoto & { f: PhotoFeatures }>;
  y: Int32Array;
  current: Evaluation;
  candidate: Evaluation;
  verdict: GateVerdict;
  summary: SharedLabelSummary;
  /** Per evaluation photo: the candidate's top-1 is right. */
  candidateHit: boolean[];
}

/** Non-regression on photos both models can name, candidate and current, same photos; then the whole gate. */
export function sharedLabelGate(opts: {
  finalHead: Head;
  finalLabels: string[];
  finalIndex: Map<string, number>;
  temperature: number;
  parent: ModelVersion;
  evalPhotos: readonly EvalPhoto[];
  features: Map<string, PhotoFeatures>;
  otherOf: (f: PhotoFeatures) => number;
  E: number;
  decisions: NewTaxonDecision[];
  launchRowsChanged: boolean;
  requireImprovement: boolean;
  rules: GateRules;
  seed: number;
}): SharedLabelResult {
  const { finalIndex, finalLabels, seed } = opts;
  const evalItems = opts.evalPhotos.flatMap((p) => {
    const f = opts.features.get(p.file);
    return f && finalIndex.has(p.label) ? [{ ...p, f }] : [];
  });
  const evalEx = toExamples(
    evalItems.map((e) => ({ group: '', label: e.label, embedding: e.f.embedding, other: opts.otherOf(e.f), source: 'eval' })),
    finalIndex,
    opts.E,
  );
  const candProbs = predictAll(opts.finalHead, evalEx, opts.temperature);
  const curProbs = evalItems.map((e) => {
    const p = softmax(e.f.logits);
    const out = new Float32Array(finalLabels.length);
    opts.parent.labels.forEach((l, i) => {
      out[finalIndex.get(l)!] = p[i];
    });
    return out;
  });
  const y = Int32Array.from(evalItems.map((e) => finalIndex.get(e.label)!));
  const current = evaluate(curProbs, y, finalLabels.length);
  const candidate = evaluate(candProbs, y, finalLabels.length);
  const curTop = topOne(curProbs, y),
    candTop = topOne(candProbs, y);
  const eceChange = pairedEceChange(curTop, candTop, 1000, seed);
  const verdict = gate(
    {
      shared: { currentHit: curTop.hit, candidateHit: candTop.hit, labels: y, names: finalLabels, eceChange },
      newTaxa: opts.decisions,
      launchRowsChanged: opts.launchRowsChanged,
      requireImprovement: opts.requireImprovement,
    },
    opts.rules,
  );
  const nr = verdict.nonRegression;
  const summary: SharedLabelSummary = {
    n: evalItems.length,
    current: { top1: current.top1, ece: bootstrapEce(curTop.confidence, curTop.hit, 1000, seed) },
    candidate: { top1: candidate.top1, ece: bootstrapEce(candTop.confidence, candTop.hit, 1000, seed) },
    top1Change: { difference: nr.top1.difference, lo: nr.top1.lo, hi: nr.top1.hi },
    mcnemar: nr.mcnemar,
    eceChange,
  };
  return { evalItems, y, current, candidate, verdict, summary, candidateHit: Array.from(candTop.hit, Boolean) };
}
