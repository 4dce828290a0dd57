/**
 * Monitoring over stored telemetry: per-version, per-day (or hour) metrics,
 * label-free drift against a reference window, and the data-quality
 * report (which corrections may be accepted automatically: core/review.ts). Pure functions over plain
 * records (the server reads rows and hands them here), so the same code runs
 * in tests, in the server and in the simulator, on SQLite and PostgreSQL
 * alike.
 */
import { categoryCounts, DEFAULT_DRIFT_THRESHOLDS, driftLevel, histogram, jsDistance, psi, type DriftLevel, type DriftThresholds } from './drift.ts';
import { seededRandom } from './random.ts';
import { installWeights } from './install-weight.ts';
import { quantile } from './stats.ts';
import type { BucketMetrics, DriftPoint, DriftScore, LatencyStats, QualityDay } from './api/monitoring.ts';

// What monitoring computes is what the admin API sends: the shapes are the wire schemas' (core/api/monitoring.ts).
export type { BucketMetrics, DriftPoint, DriftScore, LatencyStats, QualityDay };

export type Bucket = 'day' | 'hour';
/** The prediction-distribution category of an identification that answered "not one of our species". */
export const ABSTAIN = '(abstain)';
/** Bins of the top-1 confidence histogram over [0, 1]. */
export const CONFIDENCE_BINS = 10;

/** One identification event, reduced to what monitoring reads. */
export interface IdentificationFact {
  eventId: string;
  installId: string;
  modelVersion: string;
  /** ISO hour, as stored. */
  hour: string;
  backend: string;
  /** Top-1 taxon id. */
  top1: string;
  /** Top-1 probability. */
  confidence: number;
  abstain: boolean;
  totalMs: number;
}

/** One correction, reduced to what monitoring reads. */
export interface CorrectionFact {
  eventId: string;
  correctsEventId: string;
  installId: string;
  modelVersion: string;
  hour: string;
  verdict: 'confirmed' | 'corrected';
  taxonId: string | null;
  proposedName: string | null;
  status: 'pending' | 'accepted' | 'rejected';
  /** When the server stored it (its own clock, unlike hour). */
  receivedAt: string;
  /** grounded: cites a stored identification of the same install and model version. */
  grounding: 'grounded' | 'waiting' | 'unverified';
  /** false: past its install's daily cap; kept, weighs nothing. */
  counted: boolean;
}

/** An identification payload (as stored in events.payload) to a fact; null when it is not one. */
export function identificationFact(eventId: string, modelVersion: string, hour: string, payload: Record<string, unknown>): IdentificationFact | null {
  const top5 = payload.top5 as Array<{ taxonId: string; p: number }> | undefined;
  if (!Array.isArray(top5) || !top5.length) return null;
  const timings = payload.timings as { totalMs?: number } | undefined;
  return {
    eventId,
    installId: String(payload.installId ?? '').toLowerCase(),
    modelVersion,
    hour,
    backend: String(payload.backend ?? 'unknown'),
    top1: top5[0].taxonId,
    confidence: Number(top5[0].p),
    abstain: payload.abstain === true,
    totalMs: Number(timings?.totalMs ?? Number.NaN),
  };
}

export const bucketOf = (hour: string, bucket: Bucket): string => (bucket === 'day' ? hour.slice(0, 10) : `${hour.slice(0, 13)}:00`);

/**
 * The taxon id of a name a user proposed ("Eurasian Beaver" ->
 * "proposed-eurasian-beaver"): stable, never clashes with a launch id, and
 * the one normalization the server, review and training all use. Accents
 * dropped, lower case, runs of anything else one dash: "Eurasian beaver",
 * "eurasian  BEAVER" and "Eurasian-Beaver" are one name.
 */
export function normalizeProposedName(name: string): string {
  const slug = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `proposed-${slug || 'unnamed'}`;
}

/** What a correction says the photo shows: its taxon id, or the normalized proposed name. */
export const correctionLabel = (c: Pick<CorrectionFact, 'taxonId' | 'proposedName'>): string =>
  c.taxonId ?? normalizeProposedName(c.proposedName ?? '');


function latencyStats(values: number[]): LatencyStats {
  const v = values.filter(Number.isFinite);
  return v.length ? { n: v.length, p50: quantile(v, 0.5), p95: quantile(v, 0.95) } : { n: 0, p50: 0, p95: 0 };
}

/**
 * Metrics per (model version, bucket), sorted by version then bucket.
 * Rates, the prediction mix and the confidence histogram weigh each install
 * per bucket (core/install-weight.ts), so one install's flood moves them like
 * one busy install; `identifications` and `installs` are plain counts.
 * Only corrections that are evidence (grounded, within the cap) count.
 */
export function aggregateMetrics(ids: readonly IdentificationFact[], corrections: readonly CorrectionFact[], bucket: Bucket = 'day', topTaxa = 20): BucketMetrics[] {
  interface Acc { ids: IdentificationFact[]; weights: number[]; corrected: number; confirmed: number }
  const groupKey = (version: string, hour: string) => `${version}\u0000${bucketOf(hour, bucket)}`;
  const weights = installWeights(ids, (e) => e.installId, (e) => groupKey(e.modelVersion, e.hour));
  // An install's corrections weigh what its identifications weigh in the same bucket.
  const installWeight = new Map<string, number>();
  ids.forEach((e, i) => installWeight.set(`${groupKey(e.modelVersion, e.hour)}\u0000${e.installId}`, weights[i]));
  const groups = new Map<string, Acc>();
  const acc = (k: string) => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ids: [], weights: [], corrected: 0, confirmed: 0 }));
    return g;
  };
  ids.forEach((e, i) => {
    const g = acc(groupKey(e.modelVersion, e.hour));
    g.ids.push(e);
    g.weights.push(weights[i]);
  });
  for (const c of corrections) {
    if (c.grounding !== 'grounded' || !c.counted) continue;
    const k = groupKey(c.modelVersion, c.hour);
    const w = installWeight.get(`${k}\u0000${c.installId.toLowerCase()}`) ?? 1;
    const g = acc(k);
    if (c.verdict === 'corrected') g.corrected += w;
    else g.confirmed += w;
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  const out: BucketMetrics[] = [];
  for (const [k, g] of groups) {
    const [modelVersion, b] = k.split('\u0000');
    const n = g.ids.length;
    const weight = g.weights.reduce((a, w) => a + w, 0);
    const abstained = g.ids.reduce((a, e, i) => a + (e.abstain ? g.weights[i] : 0), 0);
    const counts = new Map<string, number>();
    g.ids.forEach((e, i) => {
      const label = e.abstain ? ABSTAIN : e.top1;
      counts.set(label, (counts.get(label) ?? 0) + g.weights[i]);
    });
    const byBackend = new Map<string, number[]>();
    for (const e of g.ids) {
      let list = byBackend.get(e.backend);
      if (!list) byBackend.set(e.backend, (list = []));
      list.push(e.totalMs);
    }
    out.push({
      modelVersion,
      bucket: b,
      identifications: n,
      installs: new Set(g.ids.map((e) => e.installId)).size,
      abstained: round(abstained),
      abstainRate: weight ? abstained / weight : 0,
      corrections: round(g.corrected),
      confirmations: round(g.confirmed),
      correctionRate: weight ? g.corrected / weight : 0,
      confidenceHistogram: histogram(g.ids.map((e) => e.confidence), CONFIDENCE_BINS, 0, 1, g.weights).map(round),
      predictions: [...counts].map(([taxonId, count]) => ({ taxonId, count: round(count) })).sort((a, b2) => b2.count - a.count || a.taxonId.localeCompare(b2.taxonId)).slice(0, topTaxa),
      latency: Object.fromEntries([...byBackend].sort(([a], [b2]) => a.localeCompare(b2)).map(([be, v]) => [be, latencyStats(v)])),
    });
  }
  return out.sort((a, b) => a.modelVersion.localeCompare(b.modelVersion) || a.bucket.localeCompare(b.bucket));
}

/** Predicted -> corrected taxon, most frequent first (corrections with verdict "corrected" only). */
export function correctedPairs(corrections: readonly CorrectionFact[], predictedOf: (correctsEventId: string) => string | undefined, limit = 10) {
  const counts = new Map<string, { modelVersion: string; predicted: string; corrected: string; count: number }>();
  for (const c of corrections) {
    if (c.verdict !== 'corrected') continue;
    const predicted = predictedOf(c.correctsEventId) ?? '(unknown)';
    const corrected = c.taxonId ?? `"${c.proposedName}"`;
    const k = `${c.modelVersion}\u0000${predicted}\u0000${corrected}`;
    const entry = counts.get(k) ?? { modelVersion: c.modelVersion, predicted, corrected, count: 0 };
    entry.count++;
    counts.set(k, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.predicted.localeCompare(b.predicted)).slice(0, limit);
}

// ---------------------------------------------------------------- drift

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

// ---------------------------------------------------------------- data quality


/**
 * The per-day data-quality report. `counts` are the persisted per-day
 * counters (kind "duplicate" or "rejected:<reason>"); `stored` events per
 * day; corrections give conflicts (bucketed by the day of the latest
 * correction of the group) and proposed names.
 */
export function qualityReport(counts: ReadonlyArray<{ day: string; kind: string; count: number }>, stored: ReadonlyArray<{ day: string; count: number }>, corrections: readonly CorrectionFact[]): QualityDay[] {
  const days = new Map<string, QualityDay>();
  const at = (day: string) => {
    let d = days.get(day);
    if (!d) days.set(day, (d = { day, duplicates: 0, rejected: {}, rejectedTotal: 0, stored: 0, errorRate: 0, conflictingLabels: 0, proposedNames: 0 }));
    return d;
  };
  for (const c of counts) {
    const d = at(c.day);
    if (c.kind === 'duplicate') d.duplicates += c.count;
    else if (c.kind.startsWith('rejected:')) {
      const reason = c.kind.slice('rejected:'.length);
      d.rejected[reason] = (d.rejected[reason] ?? 0) + c.count;
      d.rejectedTotal += c.count;
    }
  }
  for (const s of stored) at(s.day).stored += s.count;
  const groups = new Map<string, CorrectionFact[]>();
  for (const c of corrections) {
    if (c.proposedName !== null) at(c.hour.slice(0, 10)).proposedNames++;
    const list = groups.get(c.correctsEventId) ?? [];
    list.push(c);
    groups.set(c.correctsEventId, list);
  }
  for (const list of groups.values()) {
    if (new Set(list.map(correctionLabel)).size < 2) continue;
    const last = list.map((c) => c.hour).sort().at(-1)!;
    at(last.slice(0, 10)).conflictingLabels++;
  }
  for (const d of days.values()) {
    const seen = d.stored + d.rejectedTotal + d.duplicates;
    d.errorRate = seen ? d.rejectedTotal / seen : 0;
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
