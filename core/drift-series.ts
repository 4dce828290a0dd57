/**
 * Drift over time: per version and day, PSI and JS distance of the
 * prediction mix and the confidence histogram against a reference window
 * (core/drift.ts has the statistics), with each install weighed per day
 * (core/install-weight.ts). Pure functions over plain facts.
 */
import { categoryCounts, DEFAULT_DRIFT_THRESHOLDS, driftLevel, histogram, jsDistance, psi, type DriftLevel, type DriftThresholds } from './drift.ts';
import { seededRandom } from './random.ts';
import { installWeights } from './install-weight.ts';
import { ABSTAIN, CONFIDENCE_BINS, type DriftPoint, type DriftScore, type IdentificationFact } from './telemetry-facts.ts';

/** A window of whole UTC days, both ends included (YYYY-MM-DD). */
export interface DayWindow { from: string; to: string }

export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00.000Z`) + n * 86_400_000).toISOString().slice(0, 10);
export const inWindow = (day: string, w: DayWindow) => day >= w.from && day <= w.to;

/** The default reference: the version's first `days` days with data. */
export function defaultReference(firstDay: string, days = 7): DayWindow {
  return { from: firstDay, to: addDays(firstDay, days - 1) };
}


export interface ReferenceProfile {
  n: number;
  categories: string[];
  prediction: number[];
  confidence: number[];
}

const predictionLabel = (e: IdentificationFact) => (e.abstain ? ABSTAIN : e.top1);

/** Each install's events of one day weigh at most the cap together (core/install-weight.ts). */
const dayWeights = (events: readonly IdentificationFact[]) => installWeights(events, (e) => e.installId, (e) => `${e.modelVersion}\u0000${e.hour.slice(0, 10)}`);

export function referenceProfile(ref: readonly IdentificationFact[]): ReferenceProfile {
  const categories = [...new Set(ref.map(predictionLabel))].sort();
  const w = dayWeights(ref);
  return {
    n: ref.length,
    categories,
    prediction: categoryCounts(ref.map(predictionLabel), categories, w),
    confidence: histogram(ref.map((e) => e.confidence), CONFIDENCE_BINS, 0, 1, w),
  };
}

const worse = (a: DriftLevel, b: DriftLevel): DriftLevel => (a === 'alert' || b === 'alert' ? 'alert' : a === 'warn' || b === 'warn' ? 'warn' : 'ok');

/** Drift of one set of identifications (a day) against a reference profile. */
export function driftScore(ref: ReferenceProfile, current: readonly IdentificationFact[], t: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS) {
  // Categories never seen in the reference get bins of their own (empty on the reference side).
  const extra = [...new Set(current.map(predictionLabel).filter((c) => !ref.categories.includes(c)))].sort();
  const categories = [...ref.categories, ...extra];
  const refPred = [...ref.prediction, ...extra.map(() => 0)];
  const w = dayWeights(current);
  const curPred = categoryCounts(current.map(predictionLabel), categories, w);
  const curConf = histogram(current.map((e) => e.confidence), CONFIDENCE_BINS, 0, 1, w);
  const p = { psi: psi(refPred, curPred), js: jsDistance(refPred, curPred) };
  const c = { psi: psi(ref.confidence, curConf), js: jsDistance(ref.confidence, curConf) };
  const prediction: DriftScore = { ...p, level: driftLevel(p.psi, p.js, t) };
  const confidence: DriftScore = { ...c, level: driftLevel(c.psi, c.js, t) };
  return { prediction, confidence, level: worse(prediction.level, confidence.level) };
}

export interface DriftOptions {
  thresholds?: DriftThresholds;
  /** Per version; absent: the version's first `referenceDays` days. */
  reference?: (modelVersion: string) => DayWindow | undefined;
  referenceDays?: number;
  /** Days with fewer identifications are not scored (too noisy). */
  minEvents?: number;
}

export const DEFAULT_MIN_DRIFT_EVENTS = 200;

/** Per version and per day: PSI and JS distance of predictions and confidences against the reference window. */
export function driftSeries(ids: readonly IdentificationFact[], opts: DriftOptions = {}): { points: DriftPoint[]; references: Record<string, DayWindow & { n: number }> } {
  const t = opts.thresholds ?? DEFAULT_DRIFT_THRESHOLDS;
  const minEvents = opts.minEvents ?? DEFAULT_MIN_DRIFT_EVENTS;
  const byVersion = new Map<string, Map<string, IdentificationFact[]>>();
  for (const e of ids) {
    let days = byVersion.get(e.modelVersion);
    if (!days) byVersion.set(e.modelVersion, (days = new Map()));
    const d = e.hour.slice(0, 10);
    let list = days.get(d);
    if (!list) days.set(d, (list = []));
    list.push(e);
  }
  const points: DriftPoint[] = [];
  const references: Record<string, DayWindow & { n: number }> = {};
  for (const [version, days] of [...byVersion].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...days.keys()].sort();
    const window = opts.reference?.(version) ?? defaultReference(sorted[0], opts.referenceDays ?? 7);
    const refEvents = sorted.filter((d) => inWindow(d, window)).flatMap((d) => days.get(d)!);
    references[version] = { ...window, n: refEvents.length };
    if (refEvents.length < minEvents) continue;
    const ref = referenceProfile(refEvents);
    for (const day of sorted) {
      const cur = days.get(day)!;
      if (cur.length < minEvents) continue;
      points.push({ modelVersion: version, day, n: cur.length, inReference: inWindow(day, window), ...driftScore(ref, cur, t) });
    }
  }
  return { points, references };
}

/** Small, seedable PRNG: the same seed gives the same numbers everywhere. */
export const rng = seededRandom;

/**
 * How often the reference window alone raises an alert: `resamples` days of
 * `dayEvents` identifications drawn with replacement from the reference
 * and scored against it. A sound reference and thresholds give 0.
 */
export function bootstrapReference(ref: readonly IdentificationFact[], dayEvents: number, resamples = 20, seed = 1, t: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS) {
  const random = rng(seed);
  const profile = referenceProfile(ref);
  const levels: DriftLevel[] = [];
  for (let r = 0; r < resamples; r++) {
    const sample: IdentificationFact[] = [];
    for (let i = 0; i < dayEvents; i++) sample.push(ref[Math.floor(random() * ref.length)]);
    levels.push(driftScore(profile, sample, t).level);
  }
  return { resamples, alerts: levels.filter((l) => l === 'alert').length, warnings: levels.filter((l) => l === 'warn').length };
}
