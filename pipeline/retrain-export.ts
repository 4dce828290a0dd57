/**
 * A run's last step: the version's ONNX graph (export.ts), checked against the
 * float-head math and between onnxruntime-node and -web on sample photos,
 * registered as a candidate under the registry lock the admin API takes too,
 * so the version number chosen here is still free when it is written.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Head } from '../core/head-train.ts';
import type { Evaluation } from '../core/classifier-metrics.ts';
import { labelsText, type ExtraTaxon, type ModelVersion } from '../core/manifest.ts';
import { nextVersion, registerVersion, sha256, readManifest } from '../node/registry.ts';
import { withRegistryLock } from '../node/registry-lock.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { REPO_ROOT } from '../node/paths.ts';
import { crossRuntimeCheck, expectedLogits, exportWithHead } from './export.ts';

export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export interface ExportOutcome {
  registered: boolean;
  version: string | null;
  crossRuntime: { maxAbsDiffNodeWeb: number; maxAbsDiffFloatHead: number } | null;
  /** Why it was not registered, when the exported graph disagreed. */
  reason: string | null;
}

export async function exportAndRegister(opts: {
  registryDir: string;
  parent: ModelVersion;
  parentBytes: Uint8Array;
  finalHead: Head;
  finalLabels: string[];
  FK: number;
  temperature: number;
  samples: ReadonlyArray<{ file: string }>;
  E: number;
  candidate: Evaluation;
  newTaxa: ExtraTaxon[];
  calibration: ModelVersion['calibration'];
  counts: Record<string, number>;
  runId: string;
  log: (line: string) => void;
}): Promise<ExportOutcome> {
  const { parent, finalHead, finalLabels, FK, temperature, samples, E, candidate } = opts;
  const out: ExportOutcome = { registered: false, version: null, crossRuntime: null, reason: null };
  const labelsSha256 = sha256(labelsText(finalLabels));
  const probe = await NodeClassifier.load({ registryDir: opts.registryDir, version: parent.version, threads: 1 });
  const size = parent.input.size;
  const stacked = new Float32Array(samples.length * 3 * size * size);
  for (let i = 0; i < samples.length; i++) stacked.set(await probe.tensorFor(new Uint8Array(readFileSync(samples[i].file))), i * 3 * size * size);
  await probe.release();
  await withRegistryLock(opts.registryDir, async () => {
    const version = nextVersion(readManifest(opts.registryDir)!, 'minor');
    const bytes = exportWithHead(opts.parentBytes, finalHead, { temperature, version, labelsSha256 });
    const check = await crossRuntimeCheck(bytes, stacked, samples.length, size, parent.input.name);
    let maxFloat = 0;
    for (let i = 0; i < samples.length; i++) {
      const e = check.embedding.subarray(i * E, (i + 1) * E);
      const other = check.node[i * finalLabels.length + FK] * temperature;
      const want = expectedLogits(finalHead, e, other, temperature);
      for (let k = 0; k < finalLabels.length; k++) maxFloat = Math.max(maxFloat, Math.abs(want[k] - check.node[i * finalLabels.length + k]));
    }
    out.crossRuntime = { maxAbsDiffNodeWeb: check.maxAbsDiff, maxAbsDiffFloatHead: maxFloat };
    opts.log(`export check on ${samples.length} photos: max |node - web| = ${check.maxAbsDiff.toExponential(2)}, max |node - float head| = ${maxFloat.toExponential(2)}`);
    if (check.maxAbsDiff > 1e-3 || maxFloat > 1e-3) {
      out.reason = `exported graph disagrees: node vs web ${check.maxAbsDiff}, node vs float head ${maxFloat}`;
      return;
    }
    const meta: Omit<ModelVersion, 'file' | 'sha256' | 'bytes'> = {
      version,
      base: parent.base,
      input: parent.input,
      outputs: parent.outputs,
      labels: finalLabels,
      labelsSha256,
      abstainThreshold: parent.abstainThreshold,
      calibration: opts.calibration,
      taxonomyVersion: parent.taxonomyVersion,
      ...(opts.newTaxa.length ? { extraTaxa: opts.newTaxa } : {}),
      metrics: { top1: candidate.top1, top5: candidate.top5, macroF1: candidate.macroF1, ece: candidate.ece, evalN: candidate.n },
      lineage: { parent: parent.version, data: { ...opts.counts }, commit: gitCommit(), run: opts.runId },
      temperature,
      createdAt: new Date().toISOString(),
    };
    registerVersion(bytes, meta, opts.registryDir);
    out.registered = true;
    out.version = version;
  });
  return out;
}
