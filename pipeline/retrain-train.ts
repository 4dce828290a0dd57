/**
 * A run's training: new taxa split by install (held-out installs never
 * train), the training items, the grouped validation split, the candidate
 * head (train-candidate's two stages) and its temperature.
 */
import { fitTemperature, type Head } from '../core/head-train.ts';
import type { NewTaxonRules } from '../core/retrain-gate.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import type { BaseHead } from './base-head.ts';
import type { TrainingCorrection } from './quality.ts';
import { groupedSplit } from './split.ts';
import { splitNewTaxaByInstall, type NewTaxaSplit } from './new-taxa-holdout.ts';
import { toExamples, trainCandidate, type Item, type TrainingKnobs, type TrainProfile } from './train-candidate.ts';
import type { ParentView } from './retrain-checks.ts';

/**
 * The temperature is fitted only on validation data with at least this many
 * launch-taxon examples. Fitted on "other" photos alone (what the split gives
 * when no correction names a launch taxon) it sharpened every class (T = 0.47);
 * without enough launch examples the parent's temperature is kept.
 */
export const MIN_LAUNCH_FOR_TEMPERATURE = 50;

export interface TrainingPlan {
  /** Every new label among the kept corrections, and those judged (with held-out installs). */
  newLabelsAll: string[];
  newLabels: string[];
  byInstall: NewTaxaSplit<TrainingCorrection>;
  /** Learned rows then "other". */
  labels: string[];
  classIndex: Map<string, number>;
  corrItem: (c: TrainingCorrection) => Item;
  corrItems: Item[];
  items: Item[];
  counts: Record<string, number>;
}

/** New taxa split by install, then the training items over the parent's labels and the judged new ones. */
export function planTraining(
  kept: readonly TrainingCorrection[],
  opts: {
    parentLabels: readonly string[];
    baseItems: readonly Item[];
    view: ParentView;
    base: BaseHead;
    rules: NewTaxonRules;
    seed: number;
  },
): TrainingPlan {
  const { parentLabels } = opts;
  const newLabelsAll = [...new Set(kept.map((c) => c.label).filter((l) => !parentLabels.includes(l)))].sort();
  const byInstall = splitNewTaxaByInstall(kept, newLabelsAll, opts.rules, opts.seed);
  const newLabels = newLabelsAll.filter((l) => byInstall.heldOut.has(l));
  const labels = [...parentLabels, ...newLabels, OTHER_LABEL];
  const classIndex = new Map(labels.map((l, i) => [l, i]));
  const corrItem = (c: TrainingCorrection): Item => ({
    group: `install:${c.installId}`,
    label: c.label,
    embedding: c.embedding,
    other: opts.view.otherOf.get(c) ?? opts.base.otherLogit(c.embedding),
    source: 'corrections',
  });
  const corrItems = byInstall.train.map(corrItem);
  const items = [...opts.baseItems, ...corrItems].filter((it) => classIndex.has(it.label));
  const counts: Record<string, number> = {};
  for (const it of items) counts[it.label] = (counts[it.label] ?? 0) + 1;
  return { newLabelsAll, newLabels, byInstall, labels, classIndex, corrItem, corrItems, items, counts };
}

/**
 * Grouped, stratified split for validation (temperature only). imagenet-samples photos may have been in
 * ImageNet training (../shared/data/README.md): the model is overconfident on them, so they train but never
 * calibrate. New-taxon corrections all train: they are judged on held-out installs.
 */
export function validationSplit(
  items: readonly Item[],
  newLabels: readonly string[],
  opts: { validationShare?: number; seed: number; minGroupsForValidation?: number },
): { train: Item[]; validation: Item[] } {
  const newSet = new Set(newLabels);
  const seen = items.filter((it) => it.source === 'imagenet-samples-animals' || newSet.has(it.label));
  const split = groupedSplit(
    items.filter((it) => it.source !== 'imagenet-samples-animals' && !newSet.has(it.label)),
    opts.validationShare ?? 0.2,
    opts.seed,
    opts.minGroupsForValidation ?? 10,
  );
  return { train: [...split.train, ...seen], validation: split.validation };
}

export interface TrainedHead {
  head: Head;
  seconds: number;
  profile: TrainProfile;
  temperature: number;
  temperatureSource: string;
  launchInValidation: number;
}

/** The candidate head (both stages), then its temperature: from validation that holds launch taxa, else the parent's. */
export async function trainHeadWithTemperature(
  prior: Head,
  base: BaseHead,
  parentLabels: readonly string[],
  plan: TrainingPlan,
  split: { train: Item[]; validation: Item[] },
  opts: TrainingKnobs & {
    epochs: number;
    parentT: number;
    E: number;
    seed: number;
    progress?: (stage: string, done: number, total: number) => void;
    log: (line: string) => void;
  },
): Promise<TrainedHead> {
  const { train, validation } = split;
  // The knobs pass through as they are; trainCandidate reads only its own.
  const { head, seconds, profile } = await trainCandidate(prior, base, parentLabels, plan.newLabels, train, opts);
  const launchSet = new Set(parentLabels);
  const launchInValidation = validation.filter((it) => launchSet.has(it.label)).length;
  let temperature = opts.parentT;
  let temperatureSource: string;
  if (launchInValidation >= MIN_LAUNCH_FOR_TEMPERATURE) {
    // At most 2,000 validation examples (an even sample): plenty for one parameter, and fast at any size.
    const step = Math.max(1, Math.ceil(validation.length / 2000));
    temperature = fitTemperature(
      head,
      toExamples(
        validation.filter((_, i) => i % step === 0),
        plan.classIndex,
        opts.E,
      ),
    );
    temperatureSource = `fitted on ${validation.length} validation examples, ${launchInValidation} of launch taxa`;
  } else {
    temperatureSource = `not fitted: ${launchInValidation} launch-taxon examples in validation (needs ${MIN_LAUNCH_FOR_TEMPERATURE}); the parent's ${opts.parentT.toFixed(3)} is kept`;
  }
  return { head, seconds, profile, temperature, temperatureSource, launchInValidation };
}
