/**
 * Retraining a species pack's head (`npm run pipeline -- retrain --pack <id>`)
 * through the base model's pipeline parts and gate: accepted corrections of
 * the pack's answers on its active version -> the same quality checks (the
 * pack's own logits judge agreement) -> each corrected species split by
 * install (held-out installs never train) -> the pack's classifier, dequantized
 * to float, trained by the same trainer (L2 toward the current head, the base
 * model's joint stage) -> the same gate (core/retrain-gate.ts): candidate and
 * parent paired on labelled photos the pack knows and training never saw, and
 * each corrected species on its held-out installs -> export (parent graph,
 * float head), checked against the float head math -> registered as a
 * candidate pack version (node/pack-registry.ts) -> verdict.json and report.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Examples, Head } from '../core/head-train.ts';
import { evaluate, pairedEceChange, bootstrapEce, topOne } from '../core/classifier-metrics.ts';
import { DEFAULT_GATE, gate, judgeNewTaxon, type GateRules, type GateVerdict, type NewTaxonDecision } from '../core/retrain-gate.ts';
import { PACK_BACKGROUND, packTaxa, type SpeciesPack } from '../core/species-pack.ts';
import { activePack, findPackVersion } from '../node/pack-registry.ts';
import { modelFile, readManifest, sha256 } from '../node/registry.ts';
import { REGISTRY_DIR, REPO_ROOT } from '../node/paths.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { batchLogits } from './base-head.ts';
import { packFloatHead } from './pack-head.ts';
import { collectPackCorrections, packGatePhotos, packRowLabels, type GatePhoto } from './pack-data.ts';
import { exportAndRegisterPack } from './pack-export.ts';
import type { QualityReport, TrainingCorrection } from './quality.ts';
import { runChecks, type ParentView } from './retrain-checks.ts';
import type { SharedLabelSummary } from './retrain-evaluate.ts';
import { renderReport } from './report.ts';
import { splitNewTaxaByInstall } from './new-taxa-holdout.ts';
import { defaultBatchSize, softmax, trainStage } from './train-candidate.ts';
import { runRecord, TRACKED_REGISTRY_DIR } from './retrain.ts';

/**
 * The trainer's settings for a pack head. The base model's joint stage (L2 1 toward the current head, 10
 * epochs at 1e-4) moves its rows with thousands of base photos per epoch; a pack run has only its corrections
 * (tens), so an epoch is one or two steps and that schedule changes nothing. 40 epochs at 1e-3 (the base
 * new-taxa stage's schedule) with the joint stage's L2 toward the current head: chosen, not tuned (README).
 */
export const PACK_TRAINING = { epochs: 40, learningRate: 1e-3, lambda: 1 } as const;

export interface PackRetrainOptions {
  packId: string;
  registryDir?: string;
  writeTrackedManifest?: boolean;
  /** Accepted corrections come from here (or pass `corrections`). */
  store?: FeedbackStore;
  corrections?: TrainingCorrection[];
  /** The parent pack version; default the pack's active version. */
  parentVersion?: string;
  minPerClass?: number;
  maxSuspiciousShare?: number;
  epochs?: number;
  learningRate?: number;
  lambda?: number;
  batchSize?: number;
  seed?: number;
  threads?: number;
  gateRules?: GateRules;
  register?: boolean;
  outDir?: string;
  runId?: string;
  log?: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface PackRetrainResult {
  runId: string;
  runDir: string;
  pack: string;
  parent: string;
  registered: boolean;
  version: string | null;
  gate: GateVerdict | null;
  reasons: string[];
  quality: QualityReport | null;
  counts: Record<string, number>;
  /** Each corrected species: admitted (its row is the candidate's) or collecting (the parent's row is kept). */
  species: NewTaxonDecision[];
  /** The parent's own held-out hits per judged species, beside the candidate's (the decisions). */
  parentHeldOut: Record<string, string>;
  /** Held-out correction event ids per judged species. */
  heldOutEvents: Record<string, string[]>;
  /** The gate's first half: candidate and parent on the gate photos. */
  gatePhotos: SharedLabelSummary | null;
  /** The same top-1, apart for the species photos and the background ones (photos right / photos). */
  gateSplit: Record<'species' | 'background', { n: number; parent: number; candidate: number }> | null;
  crossRuntime: { maxAbsDiffFloatHead: number; maxAbsDiffEmbedding: number } | null;
  trainSeconds: number;
  timings: Record<string, number>;
}

/** Rows `labels` of `from` copied into `into` (the parent's rows for species that were not admitted). */
function restoreRows(into: Head, from: Head, rows: readonly number[]): Head {
  const out: Head = { ...into, weights: into.weights.slice(), bias: into.bias.slice() };
  for (const k of rows) {
    out.weights.set(from.weights.subarray(k * from.dim, (k + 1) * from.dim), k * from.dim);
    out.bias[k] = from.bias[k];
  }
  return out;
}

const stack = (xs: ReadonlyArray<Float32Array>, dim: number) => {
  const x = new Float32Array(xs.length * dim);
  xs.forEach((e, i) => x.set(e, i * dim));
  return x;
};
const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
  return best;
};

/** Top-1 row of each embedding under a head. */
async function topRows(head: Head, embeddings: ReadonlyArray<Float32Array>): Promise<number[]> {
  if (!embeddings.length) return [];
  const logits = await batchLogits(head, stack(embeddings, head.dim), embeddings.length);
  return embeddings.map((_, i) => argmax(logits.subarray(i * head.classes, (i + 1) * head.classes)));
}

/**
 * The gate's first half: the parent and the candidate on the same gate photos, both as float heads
 * over the same embeddings. The parent's own uint8 logits would differ from its float head on
 * some photos (ties, rounding) with no training at all, and that difference would count as the
 * candidate's gain.
 */
async function gatePhotoEvidence(parent: Head, head: Head, photos: readonly GatePhoto[], rowIndex: ReadonlyMap<string, number>, seed: number) {
  const y = Int32Array.from(photos.map((p) => rowIndex.get(p.label)!));
  const embeddings = stack(
    photos.map((p) => p.features.embedding),
    head.dim,
  );
  const probs = async (h: Head) => {
    const logits = await batchLogits(h, embeddings, photos.length);
    return photos.map((_, i) => softmax(logits.subarray(i * h.classes, (i + 1) * h.classes)));
  };
  const curProbs = await probs(parent);
  const candProbs = await probs(head);
  const curTop = topOne(curProbs, y),
    candTop = topOne(candProbs, y);
  return {
    y,
    current: evaluate(curProbs, y, head.classes),
    candidate: evaluate(candProbs, y, head.classes),
    curTop,
    candTop,
    eceChange: pairedEceChange(curTop, candTop, 1000, seed),
  };
}

export async function retrainPack(opts: PackRetrainOptions): Promise<PackRetrainResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const registryDir = path.resolve(opts.registryDir ?? REGISTRY_DIR);
  const rules = opts.gateRules ?? DEFAULT_GATE;
  const seed = opts.seed ?? 1;
  const runId = opts.runId ?? `${new Date().toISOString().replace(/[:.]/g, '-')}-${opts.packId}-${randomUUID().slice(0, 8)}`;
  const runDir = path.join(opts.outDir ?? path.join(REPO_ROOT, 'reports', 'retrain'), runId);
  mkdirSync(runDir, { recursive: true });
  const manifest = readManifest(registryDir);
  if (!manifest) throw new Error(`no model registry at ${registryDir}; run \`npm run models:build\` first`);
  // The parent is what devices are offered: the pack's active version.
  const parent: SpeciesPack = opts.parentVersion ? findPackVersion(manifest, opts.packId, opts.parentVersion) : activePack(manifest, opts.packId);
  const E = parent.outputs.embeddingSize;
  if (!parent.outputs.embedding || !E) throw new Error(`species pack ${parent.id} ${parent.version} names no embedding output: its corrections cannot carry one, so its head cannot be retrained`);
  const parentBytes = new Uint8Array(readFileSync(modelFile(parent, registryDir)));
  if (sha256(parentBytes) !== parent.sha256) throw new Error(`${modelFile(parent, registryDir)} does not match its sha256 in the manifest; run \`npm run models:build\``);
  const prior = packFloatHead(parentBytes, { logits: parent.outputs.logits });
  const rowLabels = packRowLabels(parent);
  if (prior.classes !== rowLabels.length || prior.dim !== E)
    throw new Error(`pack ${parent.id} ${parent.version}: a ${prior.classes} x ${prior.dim} head for ${rowLabels.length} labels and ${E}-d embeddings`);
  const rowIndex = new Map(rowLabels.map((l, k) => [l, k]));
  log(`pack ${parent.id}: parent ${parent.version} (its active version), ${prior.classes} rows`);
  const result: PackRetrainResult = {
    runId,
    runDir,
    pack: parent.id,
    parent: parent.version,
    registered: false,
    version: null,
    gate: null,
    reasons: [],
    quality: null,
    counts: {},
    species: [],
    parentHeldOut: {},
    heldOutEvents: {},
    gatePhotos: null,
    gateSplit: null,
    crossRuntime: null,
    trainSeconds: 0,
    timings: {},
  };
  const { timed, finish } = runRecord(result, runDir);

  // 1. Corrections of this pack version's answers naming one of its species.
  let corrections = opts.corrections ?? [];
  if (!opts.corrections && opts.store) {
    const got = await collectPackCorrections(opts.store, parent);
    corrections = got.corrections;
    result.counts = { ...got.counts };
    if (got.counts.otherVersion) log(`${got.counts.otherVersion} correction(s) of other ${parent.id} versions left out (this run retrains ${parent.version})`);
  }
  result.counts.corrections = corrections.length;
  timed('corrections');

  // 2. The same quality checks as the base model's, with the pack's own logits as the current model's view.
  const usable = corrections.filter((c) => c.embedding.length === E);
  const priorLogits = usable.length
    ? await batchLogits(
        prior,
        stack(
          usable.map((c) => c.embedding),
          E,
        ),
        usable.length,
      )
    : new Float32Array(0);
  const view: ParentView = { otherOf: new Map(), logitsOf: new Map(usable.map((c, i) => [c, priorLogits.slice(i * prior.classes, (i + 1) * prior.classes)])) };
  const { kept, report: quality } = runChecks(corrections, view, {
    parentLabels: rowLabels,
    embeddingSize: E,
    compatibleVersions: new Set([parent.version]),
    baseItems: [],
    minPerClass: opts.minPerClass,
    maxSuspiciousShare: opts.maxSuspiciousShare,
  });
  result.quality = quality;
  result.counts.correctionsKept = kept.length;
  timed('checks');
  for (const w of quality.warnings) log(`warning: ${w}`);
  if (quality.poisoned) {
    result.reasons.push('quality checks refused the batch: it looks poisoned');
    return finish();
  }

  // 3. Each corrected species split by install, as the base model's new taxa: held-out installs never train.
  const labels = [...new Set(kept.map((c) => c.label))].sort();
  const split = splitNewTaxaByInstall(kept, labels, rules.newTaxon, seed);
  const judged = labels.filter((l) => split.heldOut.has(l));
  result.counts.correctionsTraining = split.train.length;
  result.counts.heldOutInstalls = split.heldOutInstalls.size;
  const collectingUnjudged = (l: string) => {
    const c = split.counts.get(l) ?? { installs: 0, corrections: 0 };
    return judgeNewTaxon({ id: l, installs: c.installs, corrections: c.corrections, heldOut: null }, rules.newTaxon);
  };
  const heldBack = Object.keys(quality.heldBackClasses).filter((l) => rowIndex.has(l));
  if (!judged.length) {
    result.species = [...split.unjudged, ...heldBack].sort().map((l) => ({ ...collectingUnjudged(l), ...(heldBack.includes(l) ? { installs: 0, corrections: quality.heldBackClasses[l] } : {}) }));
    result.reasons.push('no corrected species has corrections from enough installs to be judged: nothing to retrain on');
    for (const d of result.species) result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
    return finish();
  }
  timed('split');

  // 4. The head: every row, L2 toward the current head, trained by the base model's trainer on the training corrections.
  const data: Examples = {
    n: split.train.length,
    dim: E,
    x: stack(
      split.train.map((c) => c.embedding),
      E,
    ),
    y: Int32Array.from(split.train.map((c) => rowIndex.get(c.label)!)),
  };
  const epochs = opts.epochs ?? PACK_TRAINING.epochs;
  const t0 = performance.now();
  const trained = await trainStage(
    data,
    {
      init: prior,
      prior,
      lambda: opts.lambda ?? PACK_TRAINING.lambda,
      epochs,
      learningRate: opts.learningRate ?? PACK_TRAINING.learningRate,
      batchSize: opts.batchSize ?? defaultBatchSize(data.n),
      seed,
      onEpoch: (e, loss) => {
        opts.progress?.('train', e + 1, epochs);
        if (e === epochs - 1) log(`pack head: loss ${loss.toFixed(4)} after ${epochs} epochs on ${data.n} corrections`);
      },
    },
    { threads: opts.threads },
  );
  result.trainSeconds = (performance.now() - t0) / 1000;
  timed('train');

  // 5. Each judged species on its held-out installs, the candidate's answer (and the parent's, for the record).
  const decisions: NewTaxonDecision[] = [];
  for (const l of judged) {
    const held = split.heldOut.get(l)!;
    const k = rowIndex.get(l)!;
    const cand = await topRows(
      trained,
      held.map((c) => c.embedding),
    );
    const par = await topRows(
      prior,
      held.map((c) => c.embedding),
    );
    result.heldOutEvents[l] = held.map((c) => c.eventId);
    result.parentHeldOut[l] = `${par.filter((r) => r === k).length}/${held.length}`;
    const c = split.counts.get(l)!;
    decisions.push(judgeNewTaxon({ id: l, installs: c.installs, corrections: c.corrections, heldOut: { n: held.length, hits: cand.filter((r) => r === k).length } }, rules.newTaxon));
  }
  result.species = [...decisions, ...[...split.unjudged, ...heldBack].map(collectingUnjudged)].sort((a, b) => a.id.localeCompare(b.id));
  for (const d of result.species)
    log(`species ${d.id}: ${d.status}${d.heldOut ? ` (held out ${d.heldOut.hits}/${d.heldOut.n}; the parent ${result.parentHeldOut[d.id]})` : ''}${d.needs ? `: ${d.needs.why}` : ''}`);
  // The version's head: a species that was not admitted keeps the parent's row.
  const notAdmitted = decisions.filter((d) => d.status !== 'admitted').map((d) => rowIndex.get(d.id)!);
  const finalHead = restoreRows(trained, prior, notAdmitted);
  timed('evaluate');

  // 6. The gate: candidate and parent paired on the gate photos (labels both know: the pack's species and its background), plus the species' decisions.
  const photos = await packGatePhotos({ pack: parent, registryDir, threads: opts.threads ?? 2, log, progress: opts.progress });
  result.counts.gatePhotos = photos.length;
  result.counts.gatePhotosBackground = photos.filter((p) => p.label === PACK_BACKGROUND).length;
  const ev = await gatePhotoEvidence(prior, finalHead, photos, rowIndex, seed);
  const verdict = gate(
    {
      shared: { currentHit: ev.curTop.hit, candidateHit: ev.candTop.hit, labels: ev.y, names: rowLabels, eceChange: ev.eceChange },
      newTaxa: result.species,
      launchRowsChanged: false,
    },
    rules,
  );
  const nr = verdict.nonRegression;
  result.gate = verdict;
  result.gatePhotos = {
    n: photos.length,
    current: { top1: ev.current.top1, ece: bootstrapEce(ev.curTop.confidence, ev.curTop.hit, 1000, seed) },
    candidate: { top1: ev.candidate.top1, ece: bootstrapEce(ev.candTop.confidence, ev.candTop.hit, 1000, seed) },
    top1Change: { difference: nr.top1.difference, lo: nr.top1.lo, hi: nr.top1.hi },
    mcnemar: nr.mcnemar,
    eceChange: ev.eceChange,
  };
  const bg = rowIndex.get(PACK_BACKGROUND);
  const part = (keep: (y: number) => boolean) => {
    const idx = [...ev.y.keys()].filter((i) => keep(ev.y[i]));
    return { n: idx.length, parent: idx.filter((i) => ev.curTop.hit[i]).length, candidate: idx.filter((i) => ev.candTop.hit[i]).length };
  };
  result.gateSplit = { species: part((y) => y !== bg), background: part((y) => y === bg) };
  if (!verdict.pass) result.reasons.push(...verdict.reasons);
  for (const d of result.species) if (d.status === 'collecting') result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
  timed('gate');
  log(`gate: ${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reasons.join('; ')}`);

  const names = packTaxa(parent).map((t) => t?.commonName ?? PACK_BACKGROUND);
  const support = rowLabels.map((_, k) => ev.y.filter((v) => v === k).length);
  const trainedCounts: Record<string, number> = {};
  for (const c of split.train) trainedCounts[c.label] = (trainedCounts[c.label] ?? 0) + 1;
  const report = () =>
    renderReport({
      runId,
      parent: `${parent.id} ${parent.version}`,
      parentSource: 'the pack’s active version',
      version: result.version && `${parent.id} ${result.version}`,
      labels: rowLabels,
      names,
      current: ev.current,
      candidate: ev.candidate,
      support,
      verdict,
      reasons: result.reasons,
      counts: trainedCounts,
      quality,
      temperature: 1,
      temperatureSource: 'a pack has no temperature: its logits are its own',
      shared: result.gatePhotos!,
    });
  const tracked = registryDir === path.resolve(TRACKED_REGISTRY_DIR);
  if (verdict.pass && opts.register !== false && tracked && !opts.writeTrackedManifest)
    result.reasons.push(`not registered: ${registryDir} is the tracked registry; set WILDSIGHT_REGISTRY or pass --write-tracked-manifest`);
  if (!verdict.pass || opts.register === false || (tracked && !opts.writeTrackedManifest)) {
    writeFileSync(path.join(runDir, 'report.html'), report());
    return finish();
  }

  // 7. Export (the parent graph with the float head), checked against the float head math, registered as a candidate.
  const exported = await exportAndRegisterPack({
    registryDir,
    parent,
    parentBytes,
    head: finalHead,
    samples: photos.slice(0, 4).map((p) => p.file),
    threads: opts.threads ?? 2,
    lineage: { data: { ...result.counts, ...Object.fromEntries(Object.entries(trainedCounts).map(([l, n]) => [`trained:${l}`, n])) }, run: runId },
    metrics: { gateTop1: ev.candidate.top1, gateTop1Parent: ev.current.top1, gatePhotos: photos.length },
    log,
  });
  result.crossRuntime = exported.check;
  result.registered = exported.entry !== null;
  result.version = exported.entry?.version ?? null;
  if (exported.reason) result.reasons.push(exported.reason);
  timed('export');
  writeFileSync(path.join(runDir, 'report.html'), report());
  if (result.version) log(`registered ${parent.id} ${result.version} (candidate; the active version stays ${parent.version})`);
  return finish();
}
