/** Scoring predictions against labelled photos, the same for every runtime. */
import { OTHER_LABEL } from './taxonomy.ts';
import { median } from './stats.ts';

export interface ScoredPhoto {
  file: string;
  label: string;
  /** Launch taxon ids, most probable first. */
  top5: string[];
  probabilities: number[];
  abstain: boolean;
  ms: number;
}

export interface EvalSummary {
  n: number;
  top1: number;
  top5: number;
  other_accuracy: number;
  abstain_rate: number;
  median_ms: number;
  n_launch: number;
  n_other: number;
}

/** One photo's prediction, as scoring reads it. */
export function scorePhoto(file: string, label: string, prediction: { top5: ReadonlyArray<{ taxonId: string; probability: number }>; abstain: boolean }, ms: number): ScoredPhoto {
  return { file, label, top5: prediction.top5.map((s) => s.taxonId), probabilities: prediction.top5.map((s) => s.probability), abstain: prediction.abstain, ms };
}

const round = (x: number, d = 4) => Number(x.toFixed(d));

/**
 * top1/top5 over photos of launch taxa (top1 counts the answer the user sees,
 * so an abstention is a miss); other_accuracy over the rest, where "not one
 * of our species" is the right answer.
 */
export function summarize(photos: ScoredPhoto[]): EvalSummary {
  const launch = photos.filter((p) => p.label !== OTHER_LABEL);
  const other = photos.filter((p) => p.label === OTHER_LABEL);
  const rate = (xs: ScoredPhoto[], ok: (p: ScoredPhoto) => boolean) => (xs.length ? xs.filter(ok).length / xs.length : 0);
  return {
    n: photos.length,
    top1: round(rate(launch, (p) => !p.abstain && p.top5[0] === p.label)),
    top5: round(rate(launch, (p) => p.top5.includes(p.label))),
    other_accuracy: round(rate(other, (p) => p.abstain)),
    abstain_rate: round(rate(photos, (p) => p.abstain)),
    median_ms: round(median(photos.map((p) => p.ms)), 2),
    n_launch: launch.length,
    n_other: other.length,
  };
}
