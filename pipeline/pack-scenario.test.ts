/**
 * A species pack's head retrained end to end (pack-scenario.ts): the real server on a temporary store and
 * registry copy, installs posting identifications and corrections that carry the real bird pack's answers and
 * embeddings on real bird photos, a reviewer accepting them, then `retrain --pack inat-birds`. Uses the
 * embedding cache (.cache/embeddings) for the gate photos after the first run.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR_SHARED, REGISTRY_DIR } from '../node/paths.ts';
import { sha256 } from '../node/registry.ts';
import { runPackScenario } from './pack-scenario.ts';

const ready = existsSync(path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'labels.csv')) && existsSync(path.join(REGISTRY_DIR, 'packs', 'inat-birds', 'model.onnx'));
const manifestSha = () => sha256(readFileSync(path.join(REGISTRY_DIR, 'manifest.json')));

describe.runIf(ready)('retraining a species pack through the real server', () => {
  it('pack-birds: registers a candidate pack version that loads, keeps the interface and computes its float head, judged on photos it never trained on', async () => {
    const before = manifestSha();
    const r = (await runPackScenario('pack-birds', { log: () => {} })) as Record<string, any>;
    expect(r.posted).toMatchObject({ events: 120, accepted: 120, corrections: 60, installs: 60, poisoned: 0 });
    expect(r.parent).toBe('inat-birds 1.0.0');
    expect(r.quality).toMatchObject({ input: 60, poisoned: false });
    // Gate photos: the pack's species and its background, none from the set the corrections came from.
    expect(r.gate_photos.photos).toBeGreaterThan(500);
    expect(r.gate_photos.right.species.n + r.gate_photos.right.background.n).toBe(r.gate_photos.photos);
    expect(r.gate_photos.top1.ci95[0]).toBeGreaterThanOrEqual(-0.02);
    // Each taught species decided on 5 held-out installs; only admitted ones change the version's rows.
    expect(r.species_held_out).toHaveLength(6);
    for (const s of r.species_held_out) expect(s.held_out).toMatch(/^\d\/5$/);
    expect(r.gate.pass).toBe(true);
    expect(r.registered).toBe(true);
    expect(r.version).toBe('1.0.1');
    expect(r.registered_check).toMatchObject({ entry: { status: 'candidate', parent: '1.0.0', file: 'packs/inat-birds/1.0.1/model.onnx', sha256_ok: true }, same_interface: true, served: true });
    expect(r.registered_check.max_abs_logit_vs_float_head).toBeLessThan(1e-3);
    expect(r.registered_check.max_abs_embedding_vs_parent).toBe(0);
    expect(r.pass).toBe(true);
    // The tracked registry is never touched by a scenario.
    expect(manifestSha()).toBe(before);
  }, 400_000);

  it('pack-birds-poisoned: 30% wrong labels are refused by the checks, and nothing is registered', async () => {
    const r = (await runPackScenario('pack-birds-poisoned', { log: () => {} })) as Record<string, any>;
    expect(r.posted.poisoned).toBe(18);
    expect(r.registered).toBe(false);
    // Refused by the checks themselves, not only by the gate afterwards.
    expect(r.quality).toMatchObject({ poisoned: true });
    expect(r.quality.suspicious).toBeGreaterThanOrEqual(15);
    expect(r.pass).toBe(true);
  }, 400_000);
});
