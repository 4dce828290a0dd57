/**
 * Measuring what several photos of one animal gain: labelled photos of the
 * same class are grouped at random into observations of k photos (many
 * seeded groupings, so the figure does not hang on one lucky draw), each
 * observation answered from its fused logits, and top-1 reported with a 95%
 * interval from a bootstrap over classes. Groupings of one class share
 * photos, so observations are not independent; resampling whole classes
 * keeps that dependence in the interval (a Wilson interval over observations
 * would be too narrow).
 */
import { seededRandom, shuffleInPlace } from './random.ts';
import { fuseLogits, type FusionRule } from './fusion.ts';
import { wilson, type Interval } from './intervals.ts';

export interface PhotoLogits {
  label: string;
  logits: ArrayLike<number>;
}

export interface ObservationGroup {
  label: string;
  /** Indices into the photo list. */
  photos: number[];
}

/** Photo indices by class, for the classes with at least `minPerClass` photos (sorted, so a seed replays). */
export function photosByClass(labels: readonly string[], minPerClass: number, exclude?: (label: string) => boolean): Map<string, number[]> {
  const by = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (!exclude?.(l)) by.set(l, [...(by.get(l) ?? []), i]);
  });
  return new Map([...by].filter(([, xs]) => xs.length >= minPerClass).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * One random grouping: each class's photos shuffled and cut into disjoint
 * observations of `size` (leftovers unused), so no photo counts twice in a round.
 */
export function groupOnce(byClass: ReadonlyMap<string, readonly number[]>, size: number, rand: () => number): ObservationGroup[] {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`observation size must be a whole number of photos, got ${size}`);
  const groups: ObservationGroup[] = [];
  for (const [label, idx] of byClass) {
    const order = shuffleInPlace([...idx], rand);
    for (let at = 0; at + size <= order.length; at += size) groups.push({ label, photos: order.slice(at, at + size) });
  }
  return groups;
}

export interface ObservationScore extends Interval {
  size: number;
  /** Observations scored over all rounds. */
  observations: number;
  /** Observations per round. */
  perRound: number;
  classes: number;
  top1: number;
  /**
   * Wilson interval as if one grouping's observations were all there was
   * (they are independent of each other within a grouping): not degenerate
   * where every observation is right, which the class bootstrap is.
   */
  wilson: Interval;
}

/** Percentile bootstrap over classes of sum(hits)/sum(n). */
export function classBootstrap(perClass: ReadonlyArray<{ hits: number; n: number }>, resamples = 2000, seed = 1): Interval {
  const rand = seededRandom(seed);
  const stats: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let hits = 0,
      n = 0;
    for (let i = 0; i < perClass.length; i++) {
      const c = perClass[Math.floor(rand() * perClass.length)];
      hits += c.hits;
      n += c.n;
    }
    stats.push(n ? hits / n : 0);
  }
  stats.sort((a, b) => a - b);
  return { lo: stats[Math.floor(0.025 * (resamples - 1))], hi: stats[Math.ceil(0.975 * (resamples - 1))] };
}

/**
 * Top-1 of k-photo observations over `rounds` seeded groupings of the same
 * classes. `correct` decides one observation from its fused logits (the
 * caller's interpret: an abstention is a miss).
 */
export function scoreObservations(
  photos: readonly PhotoLogits[],
  byClass: ReadonlyMap<string, readonly number[]>,
  size: number,
  opts: { rounds: number; seed: number; rule: FusionRule; correct: (fused: Float32Array, label: string) => boolean },
): ObservationScore {
  const rand = seededRandom(opts.seed);
  const perClass = new Map<string, { hits: number; n: number }>();
  let observations = 0,
    hits = 0,
    perRound = 0;
  for (let r = 0; r < opts.rounds; r++) {
    const groups = groupOnce(byClass, size, rand);
    perRound = groups.length;
    for (const g of groups) {
      const ok = opts.correct(
        fuseLogits(
          g.photos.map((i) => photos[i].logits),
          opts.rule,
        ),
        g.label,
      );
      const c = perClass.get(g.label) ?? { hits: 0, n: 0 };
      c.n++;
      if (ok) {
        c.hits++;
        hits++;
      }
      perClass.set(g.label, c);
      observations++;
    }
  }
  const ci = classBootstrap([...perClass.values()], 2000, opts.seed);
  const top1 = observations ? hits / observations : NaN;
  return { size, observations, perRound, classes: perClass.size, top1, ...ci, wilson: wilson(Math.round(top1 * perRound), perRound) };
}
