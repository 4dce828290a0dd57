/**
 * Drift over time: per version and day, PSI and JS distance of the
 * prediction mix and the confidence histogram against a reference window
 * (core/drift.ts has the statistics), with each install weighed per day
 * (core/install-weight.ts). Pure functions over plain facts.
 */
import { DEFAULT_DRIFT_THRESHOLDS, driftLevel, jsDistance, psi, type DriftLevel, type DriftThresholds } from './drift.ts';
import { seededRandom } from './random.ts';
import { installWeights } from './install-weight.ts';
import { ABSTAIN, CONFIDENCE_BINS, confidenceBin, type DriftPoint, type DriftScore, type IdentificationFact } from './telemetry-facts.ts';

/** A window of whole UTC days, both ends included (YYYY-MM-DD). */
export interface DayWindow {
  from: string;
  to: string;
}

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

/**
 * One version's day, as drift reads it: identifications, and the
 * install-weighted prediction mix and confidence histogram. What raw events
 * give (dayProfiles) and what the rollups give (server/storage/monitoring-store.ts) alike.
 */
export interface DayProfile {
  modelVersion: string;
  day: string;
  n: number;
  /** Weighted count per prediction label (top-1 taxon or ABSTAIN); a label is present when an identification had it. */
  labels: Map<string, number>;
  /** Weighted CONFIDENCE_BINS-bin histogram of top-1 confidence. */
  confidence: number[];
}

const predictionLabel = (e: IdentificationFact) => (e.abstain ? ABSTAIN : e.top1);

/** Each install's events of one day weigh at most the cap together (core/install-weight.ts). */
const dayWeights = (events: readonly IdentificationFact[]) =>
  installWeights(
    events,
    (e) => e.installId,
    (e) => `${e.modelVersion}\u0000${e.hour.slice(0, 10)}`,
  );

/** Per version and day, from the events themselves. */
export function dayProfiles(ids: readonly IdentificationFact[]): DayProfile[] {
  const w = dayWeights(ids);
  const out = new Map<string, DayProfile>();
  ids.forEach((e, i) => {
    const day = e.hour.slice(0, 10);
    const k = `${e.modelVersion}\u0000${day}`;
    let p = out.get(k);
    if (!p) out.set(k, (p = { modelVersion: e.modelVersion, day, n: 0, labels: new Map(), confidence: new Array<number>(CONFIDENCE_BINS).fill(0) }));
    p.n++;
    const label = predictionLabel(e);
    p.labels.set(label, (p.labels.get(label) ?? 0) + w[i]);
    const bin = confidenceBin(e.confidence);
    if (bin !== null) p.confidence[bin] += w[i];
  });
  return [...out.values()];
}

/** Several days as one (a reference window; a sample of days). */
export function mergeProfiles(days: readonly Pick<DayProfile, 'n' | 'labels' | 'confidence'>[]): Pick<DayProfile, 'n' | 'labels' | 'confidence'> {
  const labels = new Map<string, number>();
  const confidence = new Array<number>(CONFIDENCE_BINS).fill(0);
  let n = 0;
  for (const d of days) {
    n += d.n;
    for (const [k, v] of d.labels) labels.set(k, (labels.get(k) ?? 0) + v);
    d.confidence.forEach((v, i) => {
      confidence[i] += v;
    });
  }
  return { n, labels, confidence };
}

function profileOf(m: Pick<DayProfile, 'n' | 'labels' | 'confidence'>): ReferenceProfile {
  const categories = [...m.labels.keys()].sort();
  return { n: m.n, categories, prediction: categories.map((c) => m.labels.get(c)!), confidence: m.confidence };
}

export function referenceProfile(ref: readonly IdentificationFact[]): ReferenceProfile {
  return profileOf(mergeProfiles(dayProfiles(ref)));
}

const worse = (a: DriftLevel, b: DriftLevel): DriftLevel => (a === 'alert' || b === 'alert' ? 'alert' : a === 'warn' || b === 'warn' ? 'warn' : 'ok');

/** Drift of one set of identifications (a day) against a reference profile. */
export function driftScore(ref: ReferenceProfile, current: readonly IdentificationFact[], t: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS) {
  return scoreProfile(ref, mergeProfiles(dayProfiles(current)), t);
}

/** Drift of a day's weighted prediction mix and confidence histogram against a reference profile. */
export function scoreProfile(ref: ReferenceProfile, current: Pick<DayProfile, 'labels' | 'confidence'>, t: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS) {
  // Categories never seen in the reference get bins of their own (empty on the reference side).
  const extra = [...current.labels.keys()].filter((c) => !ref.categories.includes(c)).sort();
  const categories = [...ref.categories, ...extra];
  const refPred = [...ref.prediction, ...extra.map(() => 0)];
  const curPred = categories.map((c) => current.labels.get(c) ?? 0);
  const curConf = current.confidence;
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

export type DriftResult = { points: DriftPoint[]; references: Record<string, DayWindow & { n: number }> };

/** Per version and per day: PSI and JS distance of predictions and confidences against the reference window. */
export function driftSeries(ids: readonly IdentificationFact[], opts: DriftOptions = {}): DriftResult {
  return driftOfDays(dayProfiles(ids), opts);
}

/** The same from day profiles (the rollups' path): each version's days against its reference window. */
export function driftOfDays(profiles: readonly DayProfile[], opts: DriftOptions = {}): DriftResult {
  const t = opts.thresholds ?? DEFAULT_DRIFT_THRESHOLDS;
  const minEvents = opts.minEvents ?? DEFAULT_MIN_DRIFT_EVENTS;
  const byVersion = new Map<string, Map<string, DayProfile>>();
  for (const p of profiles) {
    let days = byVersion.get(p.modelVersion);
    if (!days) byVersion.set(p.modelVersion, (days = new Map<string, DayProfile>()));
    days.set(p.day, p);
  }
  const points: DriftPoint[] = [];
  const references: Record<string, DayWindow & { n: number }> = {};
  for (const [version, days] of [...byVersion].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...days.keys()].sort();
    const window = opts.reference?.(version) ?? defaultReference(sorted[0], opts.referenceDays ?? 7);
    const refDays = mergeProfiles(sorted.filter((d) => inWindow(d, window)).map((d) => days.get(d)!));
    references[version] = { ...window, n: refDays.n };
    if (refDays.n < minEvents) continue;
    const ref = profileOf(refDays);
    for (const day of sorted) {
      const cur = days.get(day)!;
      if (cur.n < minEvents) continue;
      points.push({ modelVersion: version, day, n: cur.n, inReference: inWindow(day, window), ...scoreProfile(ref, cur, t) });
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
