/**
 * What `npm run eval -- --location right|wrong|none` measures: each labelled
 * photo given a location drawn from its taxon's range (right), from a realm
 * outside it (wrong: the zoo animal, the prior's cost) or none, and the
 * answer scored the way `summarize` scores it, paired photo by photo against
 * no location.
 */
import { REALM_BOXES, REALMS, realmOf, type Realm } from './realms.ts';
import { roundToCell } from './telemetry.ts';
import { applyPrior, priorAt, type OccurrenceTable, type PriorOptions, type RangeTable } from './location-prior.ts';
import { OTHER_LABEL } from './taxonomy.ts';
import { pairedCounts, pairedDifference, type PairedDifference } from './intervals.ts';

export type LocationMode = 'right' | 'wrong' | 'none';
export const LOCATION_MODES: readonly LocationMode[] = ['right', 'wrong', 'none'];

/** A wrong location is somewhere a person could photograph a zoo animal: never Antarctica. */
const INHABITED: readonly Realm[] = REALMS.filter((r) => r !== 'Antarctic');

/** A uniformly drawn point (in degrees, by box) that the lookup puts in `realm`, rounded to its cell. */
export function pointIn(realm: Realm, rand: () => number): { lat: number; lon: number } {
  const boxes = REALM_BOXES.filter((b) => b.realm === realm);
  for (let tries = 0; tries < 10_000; tries++) {
    const b = boxes[Math.floor(rand() * boxes.length)];
    const lat = b.lat[0] + rand() * (b.lat[1] - b.lat[0]);
    const lon = b.lon[0] + rand() * (b.lon[1] - b.lon[0]);
    const cell = roundToCell(lat, lon);
    if (realmOf(cell.lat, cell.lon) === realm) return cell;
  }
  throw new Error(`could not draw a point in ${realm}`);
}

/**
 * The realm a photo of `label` is given. Right: one of its realms. Wrong: an
 * inhabited realm outside its range, or null when it lives everywhere (a
 * cosmopolitan taxon has no wrong place; it then gets no location). Photos
 * of "other" animals get any inhabited realm in both modes, so the prior's
 * effect on "not one of our species" is measured too.
 */
export function realmFor(label: string, mode: LocationMode, ranges: RangeTable, rand: () => number): Realm | null {
  if (mode === 'none') return null;
  const pick = (xs: readonly Realm[]) => (xs.length ? xs[Math.floor(rand() * xs.length)] : null);
  const entry = label === OTHER_LABEL ? undefined : ranges.taxa[label];
  if (!entry) return pick(INHABITED);
  if (mode === 'right') return pick(entry.realms);
  if (entry.cosmopolitan || entry.domestic) return null;
  return pick(INHABITED.filter((r) => !entry.realms.includes(r)));
}

export interface PhotoProbabilities {
  label: string;
  probabilities: ArrayLike<number>;
}

export interface LocatedAnswer {
  label: string;
  realm: Realm | null;
  answer: string;
  right: boolean;
}

/** The answer the user sees after the prior: a launch taxon, or "other" when it abstains (as `interpret` decides). */
export function answerAfterPrior(probabilities: ArrayLike<number>, labels: readonly string[], abstainThreshold: number): string {
  let best = -1,
    bestP = -1,
    otherP = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === OTHER_LABEL) {
      otherP = probabilities[i];
      continue;
    }
    if (probabilities[i] > bestP) {
      bestP = probabilities[i];
      best = i;
    }
  }
  return otherP >= bestP || bestP < abstainThreshold ? OTHER_LABEL : labels[best];
}

export function locate(
  photos: readonly PhotoProbabilities[],
  labels: readonly string[],
  abstainThreshold: number,
  mode: LocationMode,
  ranges: RangeTable,
  rand: () => number,
  occurrence?: OccurrenceTable | null,
  opts?: PriorOptions,
): LocatedAnswer[] {
  const taxa = labels.filter((l) => l !== OTHER_LABEL);
  return photos.map((p) => {
    const realm = realmFor(p.label, mode, ranges, rand);
    const cell = realm ? pointIn(realm, rand) : null;
    const month = 1 + Math.floor(rand() * 12);
    const probs = cell ? applyPrior(p.probabilities, labels, priorAt(taxa, ranges, cell, month, occurrence, opts)) : p.probabilities;
    const answer = answerAfterPrior(probs, labels, abstainThreshold);
    return { label: p.label, realm, answer, right: answer === p.label };
  });
}

export interface LocationRow {
  mode: LocationMode;
  group: 'launch' | 'other';
  n: number;
  /** Photos that got a location (a cosmopolitan taxon has no wrong place). */
  located: number;
  accuracy: number;
  /** Paired against no location on the same photos. */
  vsNone: PairedDifference & { lost: number; gained: number };
}

/** Top-1 (launch photos) and "not one of our species" accuracy (other photos), each paired against no location. */
export function locationRows(mode: LocationMode, located: readonly LocatedAnswer[], none: readonly LocatedAnswer[]): LocationRow[] {
  if (located.length !== none.length) throw new RangeError('the located and unlocated answers must be the same photos');
  return (['launch', 'other'] as const).map((group) => {
    const idx = located.map((_, i) => i).filter((i) => (located[i].label === OTHER_LABEL) === (group === 'other'));
    const cur = idx.map((i) => none[i].right),
      cand = idx.map((i) => located[i].right);
    const counts = pairedCounts(cur, cand);
    const d = pairedDifference(counts);
    return {
      mode,
      group,
      n: idx.length,
      located: idx.filter((i) => located[i].realm !== null).length,
      accuracy: idx.length ? cand.filter(Boolean).length / idx.length : NaN,
      vsNone: { ...d, lost: counts.onlyCurrent, gained: counts.onlyCandidate },
    };
  });
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

export function locationTable(rows: readonly LocationRow[]): string {
  const head = '| location | photos | given a location | accuracy | change vs none, points (95% CI) | lost / gained |\n|---|---:|---:|---:|---|---|';
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.mode}, ${r.group === 'launch' ? 'launch taxa (top-1)' : 'other animals ("not one of our species")'} | ${r.n} | ${r.located} | ${pct(r.accuracy)} | ${r.mode === 'none' ? '–' : `${pts(r.vsNone.difference)} (${pts(r.vsNone.lo)} to ${pts(r.vsNone.hi)})`} | ${r.mode === 'none' ? '–' : `${r.vsNone.lost} / ${r.vsNone.gained}`} |`,
    ),
  ].join('\n');
}
