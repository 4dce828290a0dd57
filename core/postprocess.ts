/**
 * From the model's 101 logits (100 launch taxa + "other") to what the user
 * sees: probabilities, the top-5 taxa, whether to say "not one of our
 * species", and a roll-up to the rank the top suggestions share.
 */
import { fullLineage, OTHER_LABEL, RANKS, type Rank, type Taxon, type TaxonIndex } from './taxonomy.ts';

export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export interface Ranked {
  index: number;
  value: number;
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number, skip?: (index: number) => boolean): Ranked[] {
  const best: Ranked[] = [];
  if (k <= 0) return best;
  for (let i = 0; i < values.length; i++) {
    if (skip?.(i)) continue;
    const v = values[i];
    if (best.length === k && v <= best[k - 1].value) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].value < v) at--;
    best.splice(at, 0, { index: i, value: v });
    if (best.length > k) best.pop();
  }
  return best;
}

export interface Suggestion {
  taxonId: string;
  commonName: string;
  scientificName: string;
  rank: Rank;
  probability: number;
}

export interface Rollup {
  rank: Rank;
  scientificName: string;
  commonName: string;
  /** e.g. "a beetle (order Coleoptera)" */
  sentence: string;
}

export type AbstainReason = 'other' | 'low-confidence';

export interface Prediction {
  top5: Suggestion[];
  /** Probability of the "other" class (none of the launch species). */
  otherProbability: number;
  abstain: boolean;
  abstainReason: AbstainReason | null;
  rollup: Rollup | null;
  /** One line for the user. */
  summary: string;
}

export interface InterpretOptions {
  /** Below this top-1 probability the answer is "not one of our species". */
  abstainThreshold: number;
  /** Suggestions are added to the roll-up until their probabilities sum to this. */
  rollupMass?: number;
}

const article = (noun: string) => (/^[aeiou]/i.test(noun) ? 'an' : 'a');

/** The lowest rank that every taxon given shares, or null when they share none of ours. */
export function sharedRank(taxa: Taxon[], index: TaxonIndex): Rollup | null {
  if (taxa.length === 0) return null;
  const lineages = taxa.map(fullLineage);
  for (const rank of RANKS) {
    const name = lineages[0][rank];
    if (!name || !lineages.every((l) => l[rank] === name)) continue;
    const common = taxa.length === 1 && taxa[0].rank === rank ? taxa[0].commonName.toLowerCase() : (index.taxonomy.higherTaxa[name]?.commonName ?? name);
    const label = rank === 'species' ? name : `${rank} ${name}`;
    return { rank, scientificName: name, commonName: common, sentence: `${article(common)} ${common} (${label})` };
  }
  return null;
}

export function interpret(logits: ArrayLike<number>, labels: readonly string[], index: TaxonIndex, opts: InterpretOptions): Prediction {
  if (logits.length !== labels.length) throw new RangeError(`got ${logits.length} logits for ${labels.length} labels`);
  const probs = softmax(logits);
  const otherAt = labels.indexOf(OTHER_LABEL);
  const otherProbability = otherAt >= 0 ? probs[otherAt] : 0;
  const ranked = topK(probs, 5, (i) => i === otherAt);
  const top5 = ranked.map(({ index: i, value }) => {
    const taxon = index.byId.get(labels[i]);
    if (!taxon) throw new Error(`label "${labels[i]}" is not in the taxonomy`);
    return { taxonId: taxon.id, commonName: taxon.commonName, scientificName: taxon.scientificName, rank: taxon.rank, probability: value };
  });
  const topP = top5[0]?.probability ?? 0;
  const abstainReason: AbstainReason | null = otherProbability >= topP ? 'other' : topP < opts.abstainThreshold ? 'low-confidence' : null;

  const mass = opts.rollupMass ?? 0.8;
  const group: Taxon[] = [];
  let sum = 0;
  for (const s of top5) {
    group.push(index.byId.get(s.taxonId)!);
    sum += s.probability;
    if (sum >= mass * (1 - otherProbability)) break;
  }
  const rollup = sharedRank(group, index);
  const summary =
    abstainReason === 'other'
      ? 'Not one of our species.'
      : abstainReason === 'low-confidence'
        ? `Not sure: possibly not one of our species${rollup ? `; closest match is ${rollup.sentence}` : ''}.`
        : rollup
          ? `This is ${rollup.sentence}.`
          : `Possibly ${article(top5[0].commonName)} ${top5[0].commonName.toLowerCase()}, but the suggestions disagree.`;
  return { top5, otherProbability, abstain: abstainReason !== null, abstainReason, rollup, summary };
}
