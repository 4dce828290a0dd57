/**
 * A run's quality checks on the corrections: the parent's view of each one
 * (its fixed "other" logit and the parent's logits, computed once in a batch)
 * feeds checkCorrections' poisoning test, with the base photos of the labels
 * in play as neighbours.
 */
import type { Head } from '../core/head-train.ts';
import { batchLogits, batchLogSumExp, type BaseHead } from './base-head.ts';
import { checkCorrections, DEFAULT_QUALITY, type QualityReport, type TrainingCorrection } from './quality.ts';
import { softmax, type Item } from './train-candidate.ts';

/** The base model's fixed "other" logit and the parent's logits (learned rows then "other") per correction. */
export interface ParentView {
  otherOf: Map<TrainingCorrection, number>;
  logitsOf: Map<TrainingCorrection, Float32Array>;
}

export async function parentView(corrections: readonly TrainingCorrection[], base: BaseHead, prior: Head, E: number): Promise<ParentView> {
  const usable = corrections.filter((c) => c.embedding.length === E);
  const corrX = new Float32Array(usable.length * E);
  usable.forEach((c, i) => corrX.set(c.embedding, i * E));
  const otherOf = new Map<TrainingCorrection, number>();
  const logitsOf = new Map<TrainingCorrection, Float32Array>();
  if (usable.length) {
    const otherLogits = await batchLogSumExp(base.otherRows, corrX, usable.length);
    const priorLogits = await batchLogits(prior, corrX, usable.length);
    usable.forEach((c, i) => {
      const other = otherLogits[i];
      otherOf.set(c, other);
      const l = new Float32Array(prior.classes + 1);
      l.set(priorLogits.subarray(i * prior.classes, (i + 1) * prior.classes));
      l[prior.classes] = other;
      logitsOf.set(c, l);
    });
  }
  return { otherOf, logitsOf };
}

export function runChecks(
  corrections: readonly TrainingCorrection[],
  view: ParentView,
  opts: {
    parentLabels: readonly string[];
    embeddingSize: number;
    compatibleVersions: ReadonlySet<string>;
    baseItems: readonly Item[];
    minPerClass?: number;
    maxSuspiciousShare?: number;
  },
): { kept: TrainingCorrection[]; report: QualityReport } {
  const parentProb = (c: TrainingCorrection) => {
    const k = opts.parentLabels.indexOf(c.label);
    const l = view.logitsOf.get(c);
    if (k < 0 || !l) return null;
    return softmax(l)[k];
  };
  const inPlay = new Set(corrections.map((c) => c.label));
  return checkCorrections(
    corrections,
    {
      ...DEFAULT_QUALITY,
      embeddingSize: opts.embeddingSize,
      modelVersions: opts.compatibleVersions,
      minPerClass: opts.minPerClass ?? DEFAULT_QUALITY.minPerClass,
      maxSuspiciousShare: opts.maxSuspiciousShare ?? DEFAULT_QUALITY.maxSuspiciousShare,
    },
    parentProb,
    opts.baseItems.filter((b) => inPlay.has(b.label)),
  );
}
