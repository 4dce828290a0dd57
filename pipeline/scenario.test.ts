/**
 * The acceptance scenarios end to end: the real server on a free port, a
 * temporary data folder and registry copy, corrections posted (each install
 * with its own token) and accepted through the API, then the pipeline. Uses
 * the embedding cache (.cache/embeddings) after the first run.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR_SHARED, REGISTRY_DIR } from '../node/paths.ts';
import { sha256 } from '../node/registry.ts';
import { runScenario } from './scenario.ts';

const ready = existsSync(path.join(DATA_DIR_SHARED, 'oxford-pets', 'labels.csv')) && existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'));
const manifestSha = () => sha256(readFileSync(path.join(REGISTRY_DIR, 'manifest.json')));

describe.runIf(ready)('retraining scenarios through the real server', () => {
  it('new-taxa: launch non-regression and each breed on held-out installs are reported apart, and the gate decides on both', async () => {
    const before = manifestSha();
    const r = (await runScenario('new-taxa', { log: () => {} })) as Record<string, any>;
    expect(r.posted).toMatchObject({ events: 120, accepted: 120, corrections: 60, installs: 60 });
    expect(r.proposed_taxa).toHaveLength(6);
    expect(r.parent).toBe('1.0.0 (database)');
    // Non-regression: only the 597 photos both models can name, paired, with an interval around the change.
    expect(r.non_regression.photos).toBe(597);
    expect(r.non_regression.top1.ci95[0]).toBeLessThanOrEqual(r.non_regression.top1.change);
    expect(r.non_regression.top1.ci95[1]).toBeGreaterThanOrEqual(r.non_regression.top1.change);
    expect(r.non_regression.top1.ci95[0]).toBeGreaterThanOrEqual(-0.02);
    expect(r.non_regression.mcnemar.lost).toBeGreaterThanOrEqual(r.non_regression.mcnemar.gained);
    expect(r.non_regression.ece.change_ci95[0]).toBeLessThanOrEqual(0);
    // Only "other" has 10 or more photos of one class in the evaluation set.
    expect(r.non_regression.classes_judged.map((c: any) => c.label)).toEqual(['other']);
    // New taxa: every breed decided on its own held-out installs; only the admitted ones are in the version.
    expect(r.new_taxa).toHaveLength(6);
    for (const t of r.new_taxa) {
      if (t.status === 'admitted') {
        expect(t.ci95[0]).toBeGreaterThanOrEqual(0.5);
        expect(t.needs).toBeNull();
      } else expect(t.needs.why).toMatch(/install|corrections/);
    }
    const admitted = r.new_taxa.filter((t: any) => t.status === 'admitted').map((t: any) => t.id);
    expect(r.registered).toBe(r.gate.pass);
    if (r.registered) {
      expect(r.version).toBe('1.1.0');
      expect(Object.keys(r.admitted_exported_held_out).sort()).toEqual(admitted.sort());
      expect(r.cross_runtime.maxAbsDiffNodeWeb).toBeLessThan(1e-3);
    }
    expect(r.temperature_source).toMatch(/^not fitted/);
    expect(r.pass).toBe(true);
    expect(manifestSha()).toBe(before);
  }, 300_000);

  it('few-installs: corrections of a new taxon from 3 installs register nothing and say it needs 5 more installs', async () => {
    const before = manifestSha();
    const r = (await runScenario('few-installs', { log: () => {} })) as Record<string, any>;
    expect(r.posted).toMatchObject({ corrections: 10, installs: 3 });
    expect(r.registered).toBe(false);
    expect(r.version).toBeNull();
    expect(r.new_taxa).toEqual([expect.objectContaining({ id: 'proposed-abyssinian', status: 'collecting', installs: 3, needs: expect.objectContaining({ moreInstalls: 5 }) })]);
    expect(r.gate.reasons.join(' ')).toMatch(/proposed-abyssinian: collecting: corrections from 3 install\(s\); it needs 8/);
    expect(r.pass).toBe(true);
    expect(manifestSha()).toBe(before);
  }, 240_000);

  it('poisoned: random labels on 30% of the corrections register nothing', async () => {
    const before = manifestSha();
    const r = (await runScenario('poisoned', { log: () => {} })) as Record<string, any>;
    expect(r.posted.poisoned).toBe(9);
    expect(r.registered).toBe(false);
    expect(r.version).toBeNull();
    expect(r.pass).toBe(true);
    expect(manifestSha()).toBe(before);
  }, 120_000);
});
