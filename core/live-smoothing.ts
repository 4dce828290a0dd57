/**
 * Live camera answers that settle: per-frame probabilities are averaged
 * exponentially over recent frames, and an answer is shown only once it is
 * stable. Once shown, another answer replaces it only when it is stable
 * itself and clearly ahead of the shown one (hysteresis), so a camera
 * panning from one animal to another switches once instead of flickering.
 */

export interface SmoothingOptions {
  /** Weight of the newest frame in the exponential average (0..1]. */
  alpha: number;
  /** Frames in a row the averaged top-1 must stay the same before it may be shown. */
  stableFrames: number;
  /** Averaged top-1 probability needed to show it. */
  minProbability: number;
  /** Averaged lead of the top-1 over the second needed to show it. */
  minMargin: number;
  /** How far a new answer must lead the shown one's averaged probability to replace it. */
  switchMargin: number;
}

export const DEFAULT_SMOOTHING: SmoothingOptions = { alpha: 0.5, stableFrames: 3, minProbability: 0.5, minMargin: 0.25, switchMargin: 0.3 };

/** One frame's answer: probability by label (any subset; a label missing from a frame counts as 0 there). */
export type FrameProbabilities = Readonly<Record<string, number>>;

export interface SmoothingState {
  /** The exponential average, by label. */
  average: Map<string, number>;
  /** The averaged top-1 and how many frames in a row it has been top-1. */
  leader: string | null;
  streak: number;
  /** The answer on screen, or null before anything settled. */
  shown: string | null;
  frames: number;
}

export interface SmoothingView {
  shown: string | null;
  /** The averaged top-1 and its probability and lead over the second. */
  leader: string | null;
  probability: number;
  margin: number;
  /** The leader meets the settle rule on this frame. */
  stable: boolean;
  /** The shown answer changed on this frame. */
  switched: boolean;
}

export function initialSmoothing(): SmoothingState {
  return { average: new Map(), leader: null, streak: 0, shown: null, frames: 0 };
}

function checkOptions(o: SmoothingOptions) {
  if (!(o.alpha > 0 && o.alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${o.alpha}`);
  if (!(Number.isInteger(o.stableFrames) && o.stableFrames >= 1)) throw new RangeError(`stableFrames must be a whole number >= 1, got ${o.stableFrames}`);
  for (const k of ['minProbability', 'minMargin', 'switchMargin'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw new RangeError(`${k} must be in [0, 1], got ${o[k]}`);
  }
}

/** Folds one frame into the state (mutated in place, for a loop running many times a second) and says what to show. */
export function smoothFrame(state: SmoothingState, frame: FrameProbabilities, opts: SmoothingOptions = DEFAULT_SMOOTHING): SmoothingView {
  checkOptions(opts);
  const { alpha } = opts;
  const first = state.frames === 0;
  // Labels absent from this frame decay towards 0; new ones enter at alpha * p (or p on the very first frame).
  for (const [label, avg] of state.average) if (!(label in frame)) state.average.set(label, (1 - alpha) * avg);
  for (const [label, p] of Object.entries(frame)) {
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new RangeError(`probability of ${label} must be in [0, 1], got ${p}`);
    const avg = state.average.get(label) ?? 0;
    state.average.set(label, first ? p : alpha * p + (1 - alpha) * avg);
  }
  state.frames++;
  // Forget labels that have faded to nothing, so the map stays the size of a few frames' top-k.
  for (const [label, avg] of state.average) if (avg < 1e-4) state.average.delete(label);

  let leader: string | null = null;
  let best = 0;
  let second = 0;
  for (const [label, avg] of state.average) {
    if (avg > best) {
      second = best;
      best = avg;
      leader = label;
    } else if (avg > second) second = avg;
  }
  state.streak = leader !== null && leader === state.leader ? state.streak + 1 : leader === null ? 0 : 1;
  state.leader = leader;
  const margin = best - second;
  const stable = leader !== null && state.streak >= opts.stableFrames && best >= opts.minProbability && margin >= opts.minMargin;

  let switched = false;
  if (stable && leader !== state.shown) {
    const shownAvg = state.shown === null ? 0 : (state.average.get(state.shown) ?? 0);
    if (state.shown === null || best - shownAvg >= opts.switchMargin) {
      state.shown = leader;
      switched = true;
    }
  }
  return { shown: state.shown, leader, probability: best, margin, stable, switched };
}

export type LiveHint = 'hold-steady' | 'move-closer' | null;

export interface HintOptions {
  /** Below this sharpness (core/sharpness.ts) the frame is blurred: the camera moved. */
  minSharpness: number;
  /** A sharp frame whose averaged top-1 stays below this is too far or too small to tell. */
  closerBelow: number;
}

// minSharpness: bench/live-sharpness.ts: sharp frames sit above ~230 (p10), frames blurred by 4 px around 60 (median).
export const DEFAULT_HINTS: HintOptions = { minSharpness: 100, closerBelow: 0.35 };

/**
 * What to tell the user while nothing stable is on screen for this frame:
 * a blurred frame means "Hold steady"; a sharp frame the model is still unsure
 * about means the animal is too small in it, "Move closer"; a sharp, fairly
 * confident frame that has not yet held for enough frames is "Hold steady".
 */
export function liveHint(view: Pick<SmoothingView, 'stable' | 'probability' | 'leader' | 'shown'>, sharpness: number, opts: HintOptions = DEFAULT_HINTS): LiveHint {
  if (view.stable && view.leader === view.shown) return null;
  if (sharpness < opts.minSharpness) return 'hold-steady';
  if (view.probability < opts.closerBelow) return 'move-closer';
  return 'hold-steady';
}
