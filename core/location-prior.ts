/**
 * The location-and-season prior (issue #16), pure: a weight per taxon from
 * the range table (and, when a model version ships one, the cell-by-month
 * occurrence table), multiplied into calibrated probabilities and
 * renormalized. A floor keeps an out-of-range animal winnable on a strong
 * photo: a zoo tiger photographed in Europe must still be a tiger.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { REALMS, realmOf, type Realm } from './realms.ts';
import { OTHER_LABEL } from './taxonomy.ts';

export const RangeEntrySchema = Type.Object({
  realms: Type.Array(Type.Union(REALMS.map((r) => Type.Literal(r)))),
  marine: Type.Optional(Type.Boolean()),
  domestic: Type.Optional(Type.Boolean()),
  cosmopolitan: Type.Optional(Type.Boolean()),
  /** Where the entry comes from; "common knowledge, to verify" when nothing better was checked. */
  source: Type.String({ minLength: 1 }),
  note: Type.Optional(Type.String()),
});
export const RangeTableSchema = Type.Object({
  version: Type.String(),
  source: Type.String(),
  taxa: Type.Record(Type.String(), RangeEntrySchema),
});
export type RangeEntry = Static<typeof RangeEntrySchema>;
export type RangeTable = Static<typeof RangeTableSchema>;

/** Checks a range table (models/ranges/ranges.json) and says which entry is wrong. */
export function parseRangeTable(json: unknown): RangeTable {
  if (!Value.Check(RangeTableSchema, json)) {
    const e = Value.Errors(RangeTableSchema, json).First();
    throw new Error(`range table is invalid at ${e?.path || '/'}: ${e?.message ?? 'unknown error'}`);
  }
  return json;
}

/**
 * Counts of accepted opt-in observations per cell and month, built by the
 * pipeline (pipeline/occurrence-table.ts). Only cells with enough distinct
 * installs are present, so a missing cell means "too few to say".
 */
export interface OccurrenceTable {
  cellDeg: number;
  minInstalls: number;
  /** key `${lat},${lon},${month}` (cell centre, month 1-12) -> taxon id -> count */
  cells: Record<string, Record<string, number>>;
}

export const OccurrenceTableSchema = Type.Object({
  cellDeg: Type.Number({ exclusiveMinimum: 0 }),
  minInstalls: Type.Integer({ minimum: 2 }),
  cells: Type.Record(Type.String(), Type.Record(Type.String(), Type.Number({ minimum: 0 }))),
});

/** Checks an occurrence table as downloaded (a version's occurrence.json) and says where it is wrong. */
export function parseOccurrenceTable(json: unknown): OccurrenceTable {
  if (!Value.Check(OccurrenceTableSchema, json)) {
    const e = Value.Errors(OccurrenceTableSchema, json).First();
    throw new Error(`occurrence table is invalid at ${e?.path || '/'}: ${e?.message ?? 'unknown error'}`);
  }
  return json;
}

export const occurrenceKey = (lat: number, lon: number, month: number) => `${lat.toFixed(1)},${lon.toFixed(1)},${month}`;

export interface PriorOptions {
  /** The least weight any taxon gets: out of range it is multiplied by this, never by 0. */
  floor?: number;
  /** Pseudo-observations pulling a cell's counts toward the range prior (Dirichlet smoothing). */
  smoothing?: number;
}
export const DEFAULT_FLOOR = 0.1;
export const DEFAULT_SMOOTHING = 20;

export type PriorMark = 'expected' | 'unusual';
export const MARK_TEXT: Record<PriorMark, string> = { expected: 'expected here', unusual: 'unusual here' };

export interface PriorContext {
  realm: Realm | null;
  /** taxon id -> weight (>= floor); taxa absent from the range table get 1 (no opinion). */
  weights: Map<string, number>;
}

/** Weight of one taxon from the range table alone: 1 in range (or cosmopolitan, domestic, unknown), the floor outside. */
export function rangeWeight(entry: RangeEntry | undefined, realm: Realm | null, floor = DEFAULT_FLOOR): number {
  if (!entry || realm === null || entry.cosmopolitan || entry.domestic) return 1;
  return entry.realms.includes(realm) ? 1 : floor;
}

/**
 * The prior at a cell and month. Range weights first; where the occurrence
 * table has the cell and month, each taxon's smoothed share there divided by
 * its share under the range prior scales its weight (so seasonal absence
 * lowers it, frequent sightings raise it), never below the floor.
 */
export function priorAt(
  taxa: readonly string[],
  ranges: RangeTable,
  cell: { lat: number; lon: number } | null,
  month: number | null,
  occurrence?: OccurrenceTable | null,
  opts: PriorOptions = {},
): PriorContext {
  const floor = opts.floor ?? DEFAULT_FLOOR;
  if (!(floor > 0 && floor <= 1)) throw new RangeError(`the floor must be in (0, 1], got ${floor}`);
  const realm = cell ? realmOf(cell.lat, cell.lon) : null;
  const weights = new Map<string, number>();
  for (const t of taxa) weights.set(t, rangeWeight(ranges.taxa[t], realm, floor));
  const counts = cell && month && occurrence ? occurrence.cells[occurrenceKey(cell.lat, cell.lon, month)] : undefined;
  if (counts) {
    const alpha = opts.smoothing ?? DEFAULT_SMOOTHING;
    let rangeSum = 0,
      total = 0;
    for (const t of taxa) {
      rangeSum += weights.get(t)!;
      total += counts[t] ?? 0;
    }
    for (const t of taxa) {
      const r = weights.get(t)!;
      const base = r / rangeSum;
      const share = ((counts[t] ?? 0) + alpha * base) / (total + alpha);
      weights.set(t, Math.max(floor, r * (share / base)));
    }
  }
  return { realm, weights };
}

/**
 * Multiplies calibrated probabilities (one per label, "other" included, which
 * keeps weight 1: the prior knows nothing about animals outside the launch
 * taxa) by the prior and renormalizes.
 */
export function applyPrior(probabilities: ArrayLike<number>, labels: readonly string[], prior: PriorContext): Float64Array {
  if (probabilities.length !== labels.length) throw new RangeError(`got ${probabilities.length} probabilities for ${labels.length} labels`);
  const out = new Float64Array(labels.length);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = labels[i] === OTHER_LABEL ? 1 : (prior.weights.get(labels[i]) ?? 1);
    out[i] = probabilities[i] * w;
    sum += out[i];
  }
  if (!(sum > 0)) throw new RangeError('probabilities sum to zero');
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** "expected here" at full weight or more, "unusual here" below half; null where the prior has no opinion (no realm, no entry). */
export function markFor(taxonId: string, prior: PriorContext, ranges: RangeTable): PriorMark | null {
  if (prior.realm === null || !ranges.taxa[taxonId]) return null;
  const w = prior.weights.get(taxonId) ?? 1;
  return w >= 0.5 ? 'expected' : 'unusual';
}

/**
 * The page only has the top suggestions and "other", not every label: the
 * mass outside them is kept at weight 1 (as if its taxa were in range), so
 * the prior never inflates the shown suggestions beyond what the full
 * vector would give them.
 */
export function applyPriorToTop<T extends { taxonId: string; probability: number }>(top: readonly T[], otherProbability: number, prior: PriorContext): { top: T[]; otherProbability: number } {
  const shown = top.reduce((s, x) => s + x.probability, 0) + otherProbability;
  const rest = Math.max(0, 1 - shown);
  const weighted = top.map((s) => ({ ...s, probability: s.probability * (prior.weights.get(s.taxonId) ?? 1) }));
  const sum = weighted.reduce((s, x) => s + x.probability, 0) + otherProbability + rest;
  if (!(sum > 0)) throw new RangeError('probabilities sum to zero');
  return {
    top: weighted.map((s) => ({ ...s, probability: s.probability / sum })).sort((a, b) => b.probability - a.probability),
    otherProbability: otherProbability / sum,
  };
}
