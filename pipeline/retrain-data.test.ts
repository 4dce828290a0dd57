/** Which model a correction of a species-pack answer teaches: the pack's head, the base model's, or both by one species. */
import { describe, expect, it } from 'vitest';
import { loadTaxonomy, readManifest } from '../node/registry.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { trainsBaseModel } from './retrain-data.ts';
import { packRowLabels, packRowsOfLaunchTaxa } from './pack-data.ts';

const launch = loadTaxonomy();
const launchIds = new Set(launch.taxa.map((t) => t.id));
const birds = readManifest(REGISTRY_DIR)?.packs?.find((p) => p.id === 'inat-birds');

describe('corrections of pack answers', () => {
  it('leave a pack species out of the base model, and keep launch taxa and proposed names in it', () => {
    const pack = { id: 'inat-birds', version: '1.0.0', embedding: [0] };
    expect(trainsBaseModel({ pack, taxonId: 'cyanocitta-cristata' }, launchIds)).toBe(false);
    expect(trainsBaseModel({ pack, taxonId: 'house-finch' }, launchIds)).toBe(true);
    expect(trainsBaseModel({ pack, taxonId: 'proposed-some-bird' }, launchIds)).toBe(true);
    expect(trainsBaseModel({ pack, taxonId: null }, launchIds)).toBe(true);
    expect(trainsBaseModel({ pack: null, taxonId: 'cyanocitta-cristata' }, launchIds)).toBe(true);
  });

  it.runIf(birds)("map a launch taxon that is one of the pack's species onto that species' row", () => {
    const species = new Set(packRowLabels(birds!).filter((l) => l !== 'background'));
    const rows = packRowsOfLaunchTaxa(launch, species);
    // The picker lists the House Finch under its launch id; the pack's row is the scientific name's.
    expect(rows.get('house-finch')).toBe('haemorhous-mexicanus');
    expect(species.has(rows.get('house-finch')!)).toBe(true);
    // Not every launch taxon is a bird of the pack.
    expect(rows.has('lynx')).toBe(false);
    expect(rows.size).toBeGreaterThan(5);
  });
});
