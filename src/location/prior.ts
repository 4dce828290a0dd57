import rangesJson from '../../models/ranges/ranges.json';
import { applyPriorToTop, markFor, parseRangeTable, priorAt, type PriorContext, type PriorMark, type RangeTable } from '../../core/location-prior.ts';
import type { Cell } from './cell.ts';

/** The committed range table, bundled (a few kB) so the prior works offline. */
export const RANGES: RangeTable = parseRangeTable(rangesJson);

export interface LocationView {
  cell: Cell;
  prior: PriorContext;
}

export function locationView(cell: Cell, date = new Date()): LocationView {
  return { cell, prior: priorAt(Object.keys(RANGES.taxa), RANGES, cell, date.getMonth() + 1, null) };
}

/** The suggestions reweighted by the prior, each with its mark. */
export function withPrior<T extends { taxonId: string; probability: number }>(top: readonly T[], otherProbability: number, view: LocationView) {
  const adjusted = applyPriorToTop(top, otherProbability, view.prior);
  return { ...adjusted, marks: new Map<string, PriorMark | null>(adjusted.top.map((s) => [s.taxonId, markFor(s.taxonId, view.prior, RANGES)])) };
}
