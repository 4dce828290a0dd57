/**
 * Scoring species packs on labelled photos: which photos a pack can be
 * scored on (their ImageNet class names one species the pack knows, by
 * scientific name: models/pack-label-map.json), species top-1 and top-5
 * with Wilson intervals, and the router's accuracy on every bird and insect
 * class (launch or not) against everything else.
 */
import { wilson, type Interval } from './intervals.ts';

export interface PackLabelMap {
  classes: Array<{ imagenetIndex: number; scientificName: string; pack: string }>;
  routes: Record<string, Array<[number, number]>>;
}

/** The scientific name a photo of this ImageNet class must get from `pack`, or null when it cannot be scored on it. */
export function expectedSpecies(map: PackLabelMap, pack: string, imagenetIndex: number | null): string | null {
  if (imagenetIndex === null) return null;
  return map.classes.find((c) => c.pack === pack && c.imagenetIndex === imagenetIndex)?.scientificName ?? null;
}

/** The class ("Aves", "Insecta") a photo of this ImageNet class should be routed to, or null for none. */
export function expectedRoute(map: PackLabelMap, imagenetIndex: number | null): string | null {
  if (imagenetIndex === null) return null;
  for (const [cls, ranges] of Object.entries(map.routes)) {
    if (!Array.isArray(ranges)) continue;
    if (ranges.some(([lo, hi]) => imagenetIndex >= lo && imagenetIndex <= hi)) return cls;
  }
  return null;
}

export interface SpeciesScore {
  n: number;
  top1: number;
  top5: number;
  top1_ci: Interval;
  top5_ci: Interval;
}

export function scoreSpecies(results: ReadonlyArray<{ expected: string; top5: readonly string[] }>): SpeciesScore {
  const n = results.length;
  const k1 = results.filter((r) => r.top5[0] === r.expected).length;
  const k5 = results.filter((r) => r.top5.slice(0, 5).includes(r.expected)).length;
  return { n, top1: n ? k1 / n : 0, top5: n ? k5 / n : 0, top1_ci: wilson(k1, n), top5_ci: wilson(k5, n) };
}

export interface RouterScore {
  /** Bird and insect photos sent to their own class's pack. */
  n_routable: number;
  accuracy: number;
  accuracy_ci: Interval;
  /** Per class: photos, sent right, sent to the other pack, sent nowhere. */
  by_class: Record<string, { n: number; right: number; wrong_pack: number; none: number }>;
  /** Photos of other animals sent to a pack anyway. */
  n_other: number;
  false_route_rate: number;
  false_route_ci: Interval;
}

export function scoreRouter(results: ReadonlyArray<{ expected: string | null; routed: string | null }>): RouterScore {
  const routable = results.filter((r) => r.expected !== null);
  const others = results.filter((r) => r.expected === null);
  const right = routable.filter((r) => r.routed === r.expected).length;
  const falseRoutes = others.filter((r) => r.routed !== null).length;
  const by_class: RouterScore['by_class'] = {};
  for (const r of routable) {
    const c = (by_class[r.expected!] ??= { n: 0, right: 0, wrong_pack: 0, none: 0 });
    c.n++;
    if (r.routed === r.expected) c.right++;
    else if (r.routed === null) c.none++;
    else c.wrong_pack++;
  }
  return {
    n_routable: routable.length,
    accuracy: routable.length ? right / routable.length : 0,
    accuracy_ci: wilson(right, routable.length),
    by_class,
    n_other: others.length,
    false_route_rate: others.length ? falseRoutes / others.length : 0,
    false_route_ci: wilson(falseRoutes, others.length),
  };
}

/**
 * What a photo of this ImageNet class must get from `pack` on a retrain's gate (pipeline/pack-retrain.ts): the
 * species' scientific name when the class is one species the pack knows; the pack's background class when the
 * class is not of the pack's route class at all (an insect or a dog is not any bird); null when it cannot be
 * judged (no ImageNet class, or a bird class wider than one species: the pack's answer has no right species).
 */
export function packGateLabel(map: PackLabelMap, pack: { id: string; routeClass: string }, imagenetIndex: number | null, background = 'background'): string | null {
  if (imagenetIndex === null) return null;
  const species = expectedSpecies(map, pack.id, imagenetIndex);
  if (species) return species;
  return expectedRoute(map, imagenetIndex) === pack.routeClass ? null : background;
}
