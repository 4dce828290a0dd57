/**
 * Choosing the "not one of our species" threshold on labelled data: the
 * top-1 probability below which the app says it does not know rather than
 * name a launch species.
 */

export interface AbstainSample {
  /** The photo shows a launch taxon. */
  launch: boolean;
  /** For a launch photo: the top suggestion is its taxon and "other" did not win. */
  correct: boolean;
  /** "other" had the highest probability. */
  otherWins: boolean;
  /** Probability of the top launch suggestion. */
  topP: number;
}

export interface ThresholdChoice {
  threshold: number;
  launchAccuracy: number;
  otherAccuracy: number;
  balancedAccuracy: number;
}

export function scoreThreshold(samples: AbstainSample[], threshold: number): ThresholdChoice {
  let launchN = 0,
    launchOk = 0,
    otherN = 0,
    otherOk = 0;
  for (const s of samples) {
    const abstains = s.otherWins || s.topP < threshold;
    if (s.launch) {
      launchN++;
      if (s.correct && !abstains) launchOk++;
    } else {
      otherN++;
      if (abstains) otherOk++;
    }
  }
  const launchAccuracy = launchN ? launchOk / launchN : 0;
  const otherAccuracy = otherN ? otherOk / otherN : 0;
  return { threshold, launchAccuracy, otherAccuracy, balancedAccuracy: (launchAccuracy + otherAccuracy) / 2 };
}

/**
 * The threshold that maximizes balanced accuracy (launch photos named right,
 * other photos declined), the lowest such one on ties so the app abstains no
 * more than the data asks. Needs photos of both kinds.
 */
export function chooseAbstainThreshold(samples: AbstainSample[]): ThresholdChoice {
  if (!samples.some((s) => s.launch) || !samples.some((s) => !s.launch)) {
    throw new Error('choosing an abstain threshold needs both launch-species and other photos');
  }
  // Only the observed probabilities can change the score, so they are the candidates.
  const candidates = [0, ...new Set(samples.map((s) => s.topP))].sort((a, b) => a - b);
  let best = scoreThreshold(samples, 0);
  for (const t of candidates) {
    const score = scoreThreshold(samples, t);
    if (score.balancedAccuracy > best.balancedAccuracy + 1e-12) best = score;
  }
  return best;
}
