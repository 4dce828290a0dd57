/**
 * The acceptance scenarios end to end: the real server on a free port, a
 * temporary data folder and registry copy, corrections posted and accepted
 * through the API, then the pipeline. Uses the embedding cache
 * (.cache/embeddings) after the first run.
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
  it('new-taxa: 6 unknown breeds from 5 corrections each pass the gate and are recognized on their other photos', async () => {
    const before = manifestSha();
    const r = await runScenario('new-taxa', { log: () => {} }) as Record<string, any>;
    expect(r.posted).toMatchObject({ events: 60, accepted: 60, corrections: 30 });
    expect(r.proposed_taxa).toHaveLength(6);
    expect(r.registered).toBe(true);
    expect(r.version).toBe('1.1.0');
    expect(r.gate.pass).toBe(true);
    expect(r.cross_runtime.maxAbsDiffNodeWeb).toBeLessThan(1e-3);
    expect(r.new_taxa_top1).toBeGreaterThanOrEqual(0.7);
    expect(Math.abs(r.eval_new.top1 - r.eval_v1.top1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(r.eval_new.other_accuracy - r.eval_v1.other_accuracy)).toBeLessThanOrEqual(0.01);
    expect(r.pass).toBe(true);
    expect(manifestSha()).toBe(before);
  }, 240_000);

  it('poisoned: random labels on 30% of the corrections register nothing', async () => {
    const before = manifestSha();
    const r = await runScenario('poisoned', { log: () => {} }) as Record<string, any>;
    expect(r.posted.poisoned).toBe(9);
    expect(r.registered).toBe(false);
    expect(r.version).toBeNull();
    expect(r.pass).toBe(true);
    expect(manifestSha()).toBe(before);
  }, 120_000);
});
