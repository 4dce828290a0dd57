/**
 * Synthetic telemetry for the rollout guard's tests (the base model's and the
 * species packs'): a temporary registry folder, and identifications per
 * install, each corrected with a given probability (seeded, so a failure
 * replays).
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { correction, identification, TAXON_IDS } from './fixtures.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';
import { seededRandom } from '../../core/random.ts';
import type { TelemetryEvent } from '../../core/telemetry.ts';

/** A registry folder with the real manifest only (the guard and routes never read model bytes). */
export function tempRegistry(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-registry-'));
  cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
  return dir;
}

export const embeddingFor = (version: string) => new Array(version === '1.0.0' ? 1280 : 1024).fill(0.1);

export interface TrafficOptions {
  abstains?: number;
  totalMs?: number;
  installIds?: string[];
  /** The species pack version that answered each identification too (its arm in a pack rollout). */
  pack?: { id: string; version: string };
}

/**
 * `installs` installs of `version`, each with `perInstall` identifications,
 * each corrected with probability `pCorrected` (seeded, so a failure replays).
 */
export function traffic(version: string, installs: number, perInstall: number, pCorrected: number, seed: number, opts: TrafficOptions = {}): TelemetryEvent[] {
  const rand = seededRandom(seed);
  const out: TelemetryEvent[] = [];
  for (let k = 0; k < installs; k++) {
    const installId = opts.installIds?.[k] ?? randomUUID();
    for (let i = 0; i < perInstall; i++) {
      const id = identification({
        eventId: randomUUID(),
        installId,
        modelVersion: version,
        abstain: rand() < (opts.abstains ?? 0),
        timings: { decodeMs: 1, preprocessMs: 2, inferenceMs: 30, totalMs: opts.totalMs ?? 40 + (i % 10) },
        ...(opts.pack ? { pack: { ...opts.pack, routedBy: 'rollup' as const, top5: [{ taxonId: TAXON_IDS[0], p: 0.9 }] } } : {}),
      });
      out.push(id);
      if (rand() < pCorrected) out.push(correction({ eventId: randomUUID(), installId, correctsEventId: id.eventId, modelVersion: version, embedding: embeddingFor(version) }));
    }
  }
  return out;
}
