import rangesJson from '../../models/ranges/ranges.json';
import { applyPriorToTop, markFor, occurrenceKey, parseRangeTable, priorAt, type OccurrenceTable, type PriorContext, type PriorMark, type RangeTable } from '../../core/location-prior.ts';
import type { Cell } from './cell.ts';

/** The committed range table, bundled (a few kB) so the prior works offline. */
export const RANGES: RangeTable = parseRangeTable(rangesJson);

export interface LocationView {
  cell: Cell;
  prior: PriorContext;
  /** The version's occurrence table had counts for this cell this month (they shaped the prior). */
  sightings: boolean;
}

/** occurrence: the answering version's cell-by-month table (occurrence.ts), null for the range table alone. */
export function locationView(cell: Cell, date = new Date(), occurrence: OccurrenceTable | null = null): LocationView {
  const month = date.getMonth() + 1;
  return {
    cell,
    prior: priorAt(Object.keys(RANGES.taxa), RANGES, cell, month, occurrence),
    sightings: !!occurrence?.cells[occurrenceKey(cell.lat, cell.lon, month)],
  };
}

/** The suggestions reweighted by the prior, each with its mark. */
export function withPrior<T extends { taxonId: string; probability: number }>(top: readonly T[], otherProbability: number, view: LocationView) {
  const adjusted = applyPriorToTop(top, otherProbability, view.prior);
  return { ...adjusted, marks: new Map<string, PriorMark | null>(adjusted.top.map((s) => [s.taxonId, markFor(s.taxonId, view.prior, RANGES)])) };
}
