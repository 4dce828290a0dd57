/**
 * Species packs in the product: a pack is a versioned model of its own
 * (kind "pack") that names species inside one class (birds: Aves, insects:
 * Insecta). The registry lists them beside the base versions; a device
 * downloads the ones its user wants, and the worker runs a pack on the same
 * decoded photo when the base model's answer rolls up to the pack's class or
 * the user says "It's a bird". Pure: the browser, the server, eval and bench
 * all read packs through this module.
 */
import { SpeciesPackSchema, type SpeciesPack } from './manifest.ts';
import { fullLineage, rankBelow, type Taxon, type TaxonIndex } from './taxonomy.ts';
import { softmax, topK, type Prediction, type Suggestion } from './postprocess.ts';
import type { CorrectionEvent } from './telemetry.ts';

/** The label iNaturalist's classifiers give their "none of these" class. */
export const PACK_BACKGROUND = 'background';

export { SpeciesPackSchema, type SpeciesPack };

/** "Cyanocitta cristata (Blue Jay)" → its parts; throws on a label that is neither that nor background. */
export function parsePackLabel(label: string): { scientificName: string; commonName: string } {
  // Hybrids are written "Anas superciliosa × platyrhynchos"; the source file spells × as the text \xd7.
  const text = label.trim().replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const m = /^([A-Z][a-z]+(?: (?:× )?[a-z-]+){1,2})(?: \((.*)\))?$/.exec(text);
  if (!m) throw new Error(`pack label "${label}" is not "Scientific name (Common name)"`);
  // Some source labels give no common name ("Syntomoides imaon ()"): the scientific one stands in.
  return { scientificName: m[1], commonName: m[2] || m[1] };
}

/** The taxon id of a species: its scientific name as a slug ("cyanocitta-cristata"). */
export const speciesId = (scientificName: string) => scientificName.toLowerCase().replace(/[^a-z]+/g, '-');

/**
 * The pack's taxa, index-aligned with its outputs (null for background):
 * species rank, lineage as far as the label gives it (the genus is the
 * binomial's first word) plus the pack's class and what the taxonomy knows
 * above that class.
 */
export function packTaxa(pack: Pick<SpeciesPack, 'labels' | 'routeClass'>, index?: TaxonIndex): Array<Taxon | null> {
  const above = index ? classLineage(pack.routeClass, index) : {};
  return pack.labels.map((label) => {
    if (label === PACK_BACKGROUND) return null;
    const { scientificName, commonName } = parsePackLabel(label);
    return {
      id: speciesId(scientificName),
      commonName,
      scientificName,
      rank: 'species',
      lineage: { ...above, class: pack.routeClass, genus: scientificName.split(' ')[0] },
    };
  });
}

/** What the launch taxonomy says is above a class (its phylum), from any launch taxon in it. */
function classLineage(className: string, index: TaxonIndex): Taxon['lineage'] {
  const member = index.taxonomy.taxa.find((t) => t.lineage.class === className);
  return member?.lineage.phylum ? { phylum: member.lineage.phylum } : {};
}

/**
 * whenOther: also route when the base model says "not one of our species",
 * on how its launch-taxa suggestions roll up (most birds and insects are not
 * launch taxa, so the base model declines them). Chosen on the router's
 * figures (`npm run eval -- --model <pack>` reports both policies).
 */
export interface RoutePolicy {
  whenOther: boolean;
}
export const ROUTE_POLICY: RoutePolicy = { whenOther: false };

/**
 * The pack the base model's answer routes to: the answer must not be
 * "not one of our species", and its roll-up must be at class rank or below
 * (so every suggestion it kept shares one class), that class being a pack's.
 */
export function routePack<P extends Pick<SpeciesPack, 'routeClass'>>(prediction: Prediction, index: TaxonIndex, packs: readonly P[], policy: RoutePolicy = ROUTE_POLICY): P | null {
  if ((prediction.abstainReason === 'other' && !policy.whenOther) || !prediction.rollup || !prediction.top5.length) return null;
  if (prediction.rollup.rank !== 'class' && !rankBelow(prediction.rollup.rank, 'class')) return null;
  const top = index.byId.get(prediction.top5[0].taxonId);
  const cls = top ? fullLineage(top).class : undefined;
  return packs.find((p) => p.routeClass === cls) ?? null;
}

export interface PackAnswer {
  packId: string;
  packVersion: string;
  top5: Suggestion[];
  /** Probability the pack gives its background class. */
  backgroundProbability: number;
}

/** Top-5 species of a pack's logits (background left out of the list, its probability kept). */
export function interpretPack(logits: ArrayLike<number>, pack: Pick<SpeciesPack, 'id' | 'version' | 'labels'>, taxa: ReadonlyArray<Taxon | null>): PackAnswer {
  if (logits.length !== pack.labels.length) throw new RangeError(`pack ${pack.id} gave ${logits.length} logits for ${pack.labels.length} labels`);
  const probs = softmax(logits);
  const bg = pack.labels.indexOf(PACK_BACKGROUND);
  const top5 = topK(probs, 5, (i) => i === bg).map(({ index: i, value }) => {
    const t = taxa[i]!;
    return { taxonId: t.id, commonName: t.commonName, scientificName: t.scientificName, rank: t.rank, probability: value };
  });
  return { packId: pack.id, packVersion: pack.version, top5, backgroundProbability: bg >= 0 ? probs[bg] : 0 };
}

/**
 * What a correction of a photo a pack answered says about that pack: its id,
 * version and its own embedding of the photo (what retrains the pack's head).
 * Undefined when no pack answered, or its answer was kept without an
 * embedding (an older registry's pack names none): nothing to retrain on.
 */
export function packCorrection(run: (Pick<PackAnswer, 'packId' | 'packVersion'> & { embedding?: ArrayLike<number> }) | undefined): CorrectionEvent['pack'] {
  if (!run?.embedding?.length) return undefined;
  return { id: run.packId, version: run.packVersion, embedding: Array.from(run.embedding) };
}
