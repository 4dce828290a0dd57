/**
 * Species-pack monitoring (issue #15): how each pack version does, from an
 * identification's `pack` field (core/telemetry.ts) and the corrections of
 * those identifications. One pure rule serves both the rollups
 * (server/storage/pack-rollups.ts keeps plain counts, plus the installs past
 * the cap) and the raw events (what the rollups are tested against).
 *
 * Per (pack id, pack version, UTC day) an install's runs weigh min(1,
 * cap / its runs there) (core/install-weight.ts, as the base metrics weigh
 * a model version's day), and its corrections of those runs weigh the same.
 * Corrections are counted on the day of the run they correct, so a day's
 * correction rate is about that day's runs.
 */
import { EVENTS_PER_INSTALL_CAP, installWeights } from './install-weight.ts';
import { wilson } from './intervals.ts';
import { CONFIDENCE_BINS, confidenceBin } from './telemetry-facts.ts';
import type { DayProfile } from './drift-series.ts';
import type { PackDayMetrics, PackVersionMetrics } from './api/pack-monitoring.ts';

/** The mean confidence is kept as an integer sum of millionths, so it adds exactly in a bigint column. */
export const CONFIDENCE_SCALE = 1_000_000;
const SEP = '\u0000';

/** One identification that ran a species pack, reduced to what pack monitoring reads. */
export interface PackRun {
  eventId: string;
  installId: string;
  packId: string;
  packVersion: string;
  /** ISO hour, as stored. */
  hour: string;
  routedBy: 'rollup' | 'user';
  top1: string;
  confidence: number;
}

/** An evidence correction (grounded, within its cap) of a pack run: counted on the run's hour, for the run's install. */
export interface PackVerdict {
  installId: string;
  packId: string;
  packVersion: string;
  hour: string;
  verdict: 'corrected' | 'confirmed';
}

/** The pack run an identification payload carries, or null when it ran no pack. */
export function packRunOf(eventId: string, installId: string, hour: string, payload: Record<string, unknown>): PackRun | null {
  const p = payload.pack as { id?: unknown; version?: unknown; routedBy?: unknown; top5?: Array<{ taxonId?: unknown; p?: unknown }> } | undefined;
  if (!p || typeof p !== 'object' || typeof p.id !== 'string' || typeof p.version !== 'string' || !Array.isArray(p.top5) || !p.top5.length) return null;
  const top = p.top5[0];
  return {
    eventId,
    installId: installId.toLowerCase(),
    packId: p.id,
    packVersion: p.version,
    hour,
    routedBy: p.routedBy === 'user' ? 'user' : 'rollup',
    top1: String(top.taxonId),
    confidence: Number(top.p),
  };
}

/** The key of a counted dimension: 'runs' '', 'routed' rollup|user, 'label' taxon, 'conf' bin, 'confsum' '' (millionths), 'verdict' corrected|confirmed. */
export const countKey = (dim: string, key: string) => `${dim}${SEP}${key}`;

/** What one run adds, as (dim, key, amount). */
export function runCounts(r: PackRun): Array<[string, string, number]> {
  const out: Array<[string, string, number]> = [
    ['runs', '', 1],
    ['routed', r.routedBy, 1],
    ['label', r.top1, 1],
  ];
  const bin = confidenceBin(r.confidence);
  if (bin !== null) out.push(['conf', String(bin), 1], ['confsum', '', Math.round(r.confidence * CONFIDENCE_SCALE)]);
  return out;
}

/** A (pack, version, day) as the rollups hold it: plain counts (countKey), and apart the installs past the cap with their own counts. */
export interface PackTally {
  packId: string;
  packVersion: string;
  day: string;
  counts: Map<string, number>;
  heavy: Array<{ n: number; counts: Map<string, number> }>;
}

/** The install-weighted counts of a tally: each heavy install's counts weigh cap/n, so (1 - cap/n) of them come off the plain ones. */
export function weightedCounts(t: Pick<PackTally, 'counts' | 'heavy'>, cap = EVENTS_PER_INSTALL_CAP): Map<string, number> {
  const out = new Map(t.counts);
  for (const h of t.heavy) {
    const off = 1 - cap / h.n;
    for (const [k, v] of h.counts) out.set(k, (out.get(k) ?? 0) - off * v);
  }
  return out;
}

/** Weighted counts per (pack, version, day) straight from the runs and verdicts: the rule the rollups must reproduce. */
export function weightedDaysFromRuns(
  runs: readonly PackRun[],
  verdicts: readonly PackVerdict[],
  cap = EVENTS_PER_INSTALL_CAP,
): Array<{ packId: string; packVersion: string; day: string; runs: number; weighted: Map<string, number> }> {
  const group = (x: { packId: string; packVersion: string; hour: string }) => [x.packId, x.packVersion, x.hour.slice(0, 10)].join(SEP);
  const w = installWeights(runs, (r) => r.installId, group, cap);
  const installWeight = new Map<string, number>();
  const out = new Map<string, { runs: number; weighted: Map<string, number> }>();
  const at = (g: string) => {
    let d = out.get(g);
    if (!d) out.set(g, (d = { runs: 0, weighted: new Map() }));
    return d;
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  runs.forEach((r, i) => {
    const g = group(r);
    installWeight.set(`${g}${SEP}${r.installId}`, w[i]);
    const d = at(g);
    d.runs++;
    add(d.weighted, countKey('runs', ''), w[i]);
    add(d.weighted, countKey('routed', r.routedBy), w[i]);
    add(d.weighted, countKey('label', r.top1), w[i]);
    const bin = confidenceBin(r.confidence);
    if (bin !== null) {
      add(d.weighted, countKey('conf', String(bin)), w[i]);
      add(d.weighted, countKey('confsum', ''), w[i] * r.confidence * CONFIDENCE_SCALE);
    }
  });
  for (const v of verdicts) {
    const g = group(v);
    add(at(g).weighted, countKey('verdict', v.verdict), installWeight.get(`${g}${SEP}${v.installId.toLowerCase()}`) ?? 1);
  }
  return [...out].map(([g, d]) => {
    const [packId, packVersion, day] = g.split(SEP);
    return { packId, packVersion, day, ...d };
  });
}

/** The median of a histogram over [0, 1], interpolated within the bin it falls in; 0 when empty. */
export function histogramMedian(bins: readonly number[]): number {
  const total = bins.reduce((a, b) => a + Math.max(0, b), 0);
  if (!(total > 0)) return 0;
  let below = 0;
  for (let i = 0; i < bins.length; i++) {
    const c = Math.max(0, bins[i]);
    if (c > 0 && below + c >= total / 2) return (i + (total / 2 - below) / c) / bins.length;
    below += c;
  }
  return 1;
}

/** The figures of one pack version over some days, from its plain run count and weighted counts. */
export function packFigures(packId: string, packVersion: string, runs: number, w: ReadonlyMap<string, number>, topLabels = 5): PackVersionMetrics {
  const get = (dim: string, key: string) => w.get(countKey(dim, key)) ?? 0;
  const weight = get('runs', '');
  const tapped = get('routed', 'user');
  const corrections = get('verdict', 'corrected');
  const histogram = Array.from({ length: CONFIDENCE_BINS }, (_, i) => get('conf', String(i)));
  const labels = [...w]
    .filter(([k]) => k.startsWith(`label${SEP}`))
    .map(([k, count]) => ({ taxonId: k.slice(6), count }))
    .sort((a, b) => b.count - a.count || a.taxonId.localeCompare(b.taxonId));
  return {
    packId,
    packVersion,
    runs,
    tapped,
    tappedShare: weight > 0 ? tapped / weight : 0,
    meanConfidence: weight > 0 ? get('confsum', '') / CONFIDENCE_SCALE / weight : 0,
    medianConfidence: histogramMedian(histogram),
    confidenceHistogram: histogram,
    corrections,
    confirmations: get('verdict', 'confirmed'),
    correctionRate: weight > 0 ? corrections / weight : 0,
    // Weighted counts are not integers; Wilson's formula takes them as they are (clamped: float sums can step a hair outside [0, n]).
    correctionInterval: wilson(Math.min(Math.max(0, corrections), Math.max(0, weight)), Math.max(0, weight)),
    topLabels: labels.slice(0, topLabels),
  };
}

/** Per day, and one row per version over all the days given (weighted counts add: each day is weighed within itself). */
export function packReport(days: ReadonlyArray<{ packId: string; packVersion: string; day: string; runs: number; weighted: ReadonlyMap<string, number> }>): {
  series: PackDayMetrics[];
  versions: PackVersionMetrics[];
} {
  const order = <T extends { packId: string; packVersion: string }>(a: T, b: T) => a.packId.localeCompare(b.packId) || a.packVersion.localeCompare(b.packVersion, undefined, { numeric: true });
  const sorted = [...days].sort((a, b) => order(a, b) || a.day.localeCompare(b.day));
  const series = sorted.map((d) => ({ ...packFigures(d.packId, d.packVersion, d.runs, d.weighted), day: d.day }));
  const merged = new Map<string, { packId: string; packVersion: string; runs: number; weighted: Map<string, number> }>();
  for (const d of sorted) {
    const k = `${d.packId}${SEP}${d.packVersion}`;
    let m = merged.get(k);
    if (!m) merged.set(k, (m = { packId: d.packId, packVersion: d.packVersion, runs: 0, weighted: new Map() }));
    m.runs += d.runs;
    for (const [key, v] of d.weighted) m.weighted.set(key, (m.weighted.get(key) ?? 0) + v);
  }
  return { series, versions: [...merged.values()].map((m) => packFigures(m.packId, m.packVersion, m.runs, m.weighted)) };
}

/** How drift and its alerts name a pack version (drift_alerts.model_version), so an alert says which pack it is about. */
export const packDriftKey = (packId: string, packVersion: string) => `pack:${packId}@${packVersion}`;

/** A pack version's day as drift reads it (core/drift-series.ts): runs, the weighted top-1 mix and confidence histogram. */
export function packDayProfile(d: { packId: string; packVersion: string; day: string; runs: number; weighted: ReadonlyMap<string, number> }): DayProfile {
  const labels = new Map<string, number>();
  for (const [k, v] of d.weighted) if (k.startsWith(`label${SEP}`)) labels.set(k.slice(6), v);
  const confidence = Array.from({ length: CONFIDENCE_BINS }, (_, i) => d.weighted.get(countKey('conf', String(i))) ?? 0);
  return { modelVersion: packDriftKey(d.packId, d.packVersion), day: d.day, n: d.runs, labels, confidence };
}
