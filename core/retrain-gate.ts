/**
 * The retraining gate: a candidate head replaces the current one only if it
 * is not worse where it matters. Thresholds come from the product: overall
 * top-1 may drop at most 0.5 points, no launch taxon's recall more than 5
 * points, and calibration (ECE) may not get worse.
 */
import type { Evaluation } from './classifier-metrics.ts';

export interface GateRules {
  maxTop1Drop: number;
  maxClassRecallDrop: number;
  /** ECE may rise by at most this (0 = no worse; a hair of tolerance for float noise). */
  maxEceRise: number;
  /** Classes with fewer evaluation examples than this are not judged one by one (too noisy). */
  minClassSupport: number;
}

export const DEFAULT_GATE: GateRules = { maxTop1Drop: 0.005, maxClassRecallDrop: 0.05, maxEceRise: 1e-9, minClassSupport: 1 };

export interface GateVerdict { pass: boolean; reasons: string[] }

const pts = (x: number) => `${(x * 100).toFixed(1)} points`;

/**
 * Compares candidate and current on the same evaluation set. `launchClasses`
 * are indices (in both evaluations) of the launch taxa; `names` labels them.
 */
export function gate(current: Evaluation, candidate: Evaluation, launchClasses: number[], names: string[], rules: GateRules = DEFAULT_GATE, support?: number[]): GateVerdict {
  const reasons: string[] = [];
  const drop = current.top1 - candidate.top1;
  if (drop > rules.maxTop1Drop) reasons.push(`overall top-1 fell ${pts(drop)} (${pts(current.top1)} -> ${pts(candidate.top1)}), more than the ${pts(rules.maxTop1Drop)} allowed`);
  for (const k of launchClasses) {
    if (support && support[k] < rules.minClassSupport) continue;
    const before = current.perClassRecall[k];
    const after = candidate.perClassRecall[k];
    if (Number.isNaN(before) || Number.isNaN(after)) continue;
    if (before - after > rules.maxClassRecallDrop) reasons.push(`recall of ${names[k] ?? k} fell ${pts(before - after)} (${pts(before)} -> ${pts(after)})`);
  }
  if (candidate.ece - current.ece > rules.maxEceRise) reasons.push(`calibration got worse: ECE ${current.ece.toFixed(4)} -> ${candidate.ece.toFixed(4)}`);
  return { pass: reasons.length === 0, reasons: reasons.length ? reasons : [`top-1 ${pts(current.top1)} -> ${pts(candidate.top1)}, ECE ${current.ece.toFixed(4)} -> ${candidate.ece.toFixed(4)}, no launch taxon dropped more than ${pts(rules.maxClassRecallDrop)}`] };
}
