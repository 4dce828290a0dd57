/**
 * Shuffled per-taxon splits for the new-taxa curve and its settings bench:
 * each taxon's photos (those with cached features) in a seeded order, the
 * first `heldOut` held out and the next `train` (all the rest when omitted)
 * to train on. One photo stands for one install, so this is a split by install.
 */
import { shuffleInPlace } from '../core/random.ts';

export interface TaxonSplit {
  id: string;
  heldOut: string[];
  train: string[];
}

export function taxonSplits(taxa: ReadonlyArray<{ id: string; files: readonly string[] }>, has: (file: string) => boolean, rand: () => number, heldOut: number, train?: number): TaxonSplit[] {
  return taxa.map((t) => {
    const fs = shuffleInPlace(t.files.filter(has), rand);
    return { id: t.id, heldOut: fs.slice(0, heldOut), train: fs.slice(heldOut, train === undefined ? undefined : heldOut + train) };
  });
}
