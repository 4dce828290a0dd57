/**
 * One retraining run: accepted corrections + the base labelled photos ->
 * quality checks -> grouped split -> head training -> temperature -> gate
 * against the current version on a fixed evaluation set -> ONNX export,
 * cross-runtime check, registration as a candidate, HTML report.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { trainHead, fitTemperature, predictAll, type Examples, type Head } from '../core/head-train.ts';
import { evaluate, type Evaluation } from '../core/classifier-metrics.ts';
import { gate, DEFAULT_GATE, type GateRules, type GateVerdict } from '../core/retrain-gate.ts';
import { labelsText, type ExtraTaxon, type ModelVersion } from '../core/manifest.ts';
import { OTHER_LABEL, type Taxon } from '../core/taxonomy.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { loadTaxonomy, loadVersion, loadTaxonIndex, nextVersion, registerVersion, sha256, readManifest } from '../node/registry.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED, REGISTRY_DIR, REPO_ROOT } from '../node/paths.ts';
import { proposedTaxonId } from '../server/plugins/app/taxa.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { acceptedCorrections } from './feedback-input.ts';
import { BaseHead, batchLogits, logSumExp } from './base-head.ts';
import { embedPhotos, type PhotoFeatures } from './embed-cache.ts';
import { checkCorrections, DEFAULT_QUALITY, type QualityReport, type TrainingCorrection } from './quality.ts';
import { groupedSplit } from './split.ts';
import { crossRuntimeCheck, expectedLogits, exportWithHead, splicedHead } from './export.ts';
import { renderReport } from './report.ts';

export const BASE_PACKS = ['imagenet-samples-animals', 'gcompris-animals', 'oxford-pets'] as const;
export const EVAL_PACK = 'imagenet-val-animals';

export interface HoldoutPhoto { file: string; label: string }

export interface RetrainOptions {
  registryDir?: string;
  /** Accepted corrections come from here (or pass `corrections`). */
  store?: FeedbackStore;
  corrections?: TrainingCorrection[];
  /** Names for new taxa (label id -> proposed name), when corrections are passed directly. */
  proposedNames?: Record<string, string>;
  /** Skip corrections entirely (a head from ../shared data alone). */
  baseOnly?: boolean;
  /** Also embed tiny-imagenet-animals into the base set. */
  tinyImagenet?: boolean;
  /** Photos of new taxa that never train, added to the evaluation set. */
  holdout?: HoldoutPhoto[];
  minPerClass?: number;
  maxSuspiciousShare?: number;
  validationShare?: number;
  /** Classes with fewer installs (groups) than this stay wholly in training. */
  minGroupsForValidation?: number;
  /** Epochs of the joint stage (all rows, regularized toward the parent); 0 keeps the parent's rows as they are.
   * Default: 10 when corrections name launch taxa or in a base-only run, else 0. */
  epochs?: number;
  newTaxaEpochs?: number;
  newTaxaLearningRate?: number;
  newTaxaLambda?: number;
  /** Total weight of each new class in training (its examples share it). */
  newTaxaWeight?: number;
  learningRate?: number;
  lambda?: number;
  batchSize?: number;
  seed?: number;
  gateRules?: GateRules;
  /** Register only when the candidate's top-1 is strictly better (always on for base-only runs). */
  requireImprovement?: boolean;
  register?: boolean;
  outDir?: string;
  runId?: string;
  threads?: number;
  log?: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface RetrainResult {
  runId: string;
  runDir: string;
  parent: string;
  registered: boolean;
  version: string | null;
  gate: GateVerdict | null;
  reasons: string[];
  quality: QualityReport | null;
  counts: Record<string, number>;
  newTaxa: ExtraTaxon[];
  metrics: { current: Summary; candidate: Summary } | null;
  temperature: number | null;
  /** Recall of each new taxon on its held-out evaluation photos (when there are any). */
  newTaxaRecall?: Record<string, number>;
  crossRuntime: { maxAbsDiffNodeWeb: number; maxAbsDiffFloatHead: number } | null;
  trainSeconds: number;
}

interface Summary { n: number; top1: number; top5: number; macroF1: number; ece: number }
const summary = (e: Evaluation): Summary => ({ n: e.n, top1: e.top1, top5: e.top5, macroF1: e.macroF1, ece: e.ece });

export function gitCommit(): string {
  try { return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

function softmax(v: Float32Array, t = 1): Float32Array {
  let m = -Infinity;
  for (const x of v) if (x / t > m) m = x / t;
  const out = new Float32Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) { out[i] = Math.exp(v[i] / t - m); s += out[i]; }
  for (let i = 0; i < v.length; i++) out[i] /= s;
  return out;
}

interface Item { group: string; label: string; embedding: Float32Array; other: number; source: string }

export async function collectCorrections(store: FeedbackStore): Promise<{ corrections: TrainingCorrection[]; names: Record<string, string> }> {
  const corrections: TrainingCorrection[] = [];
  const names: Record<string, string> = {};
  for await (const c of acceptedCorrections(store)) {
    const label = c.taxonId ?? proposedTaxonId(c.proposedName ?? '');
    if (!c.taxonId && c.proposedName) names[label] ??= c.proposedName;
    corrections.push({ eventId: c.eventId, correctsEventId: c.correctsEventId, installId: c.installId, modelVersion: c.modelVersion, label, embedding: Float32Array.from(c.embedding) });
  }
  return { corrections, names };
}

export async function retrain(opts: RetrainOptions = {}): Promise<RetrainResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const registryDir = opts.registryDir ?? REGISTRY_DIR;
  const runId = opts.runId ?? `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  const runDir = path.join(opts.outDir ?? path.join(REPO_ROOT, 'reports', 'retrain'), runId);
  mkdirSync(runDir, { recursive: true });
  const taxonomy = loadTaxonomy();
  const { manifest, model: parent, bytes: parentBytes } = loadVersion(undefined, registryDir);
  const parentT = parent.temperature ?? 1;
  const launchTaxa = taxonomy.taxa.filter((t) => t.imagenetIndex != null);
  const base = new BaseHead(parentBytes, launchTaxa.map((t) => t.imagenetIndex!));
  const parentLabels = parent.labels.filter((l) => l !== OTHER_LABEL);
  const prior: Head = splicedHead(parentBytes) ?? base.launch;
  if (prior.classes !== parentLabels.length) throw new Error(`parent ${parent.version}: ${prior.classes} head rows for ${parentLabels.length} labels`);
  const result: RetrainResult = { runId, runDir, parent: parent.version, registered: false, version: null, gate: null, reasons: [], quality: null, counts: {}, newTaxa: [], metrics: null, temperature: null, crossRuntime: null, trainSeconds: 0 };
  const finish = () => {
    writeFileSync(path.join(runDir, 'verdict.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  };

  // 1. Data: base photos and the evaluation set through the current backbone (cached).
  const classifier = await NodeClassifier.load({ registryDir, threads: opts.threads ?? 2 });
  const packs = [...BASE_PACKS, ...(opts.tinyImagenet ? ['tiny-imagenet-animals'] : [])];
  let corrections: TrainingCorrection[] = [];
  let names: Record<string, string> = { ...(opts.proposedNames ?? {}) };
  if (!opts.baseOnly) {
    if (opts.corrections) corrections = opts.corrections;
    else if (opts.store) { const got = await collectCorrections(opts.store); corrections = got.corrections; names = { ...got.names, ...names }; }
  }
  const newLabelSet = new Set(corrections.map((c) => c.label).filter((l) => !parentLabels.includes(l)));
  const basePhotos = packs.flatMap((pack) => readLabelledPhotos(path.join(DATA_DIR_SHARED, pack), path.join(DATA_DIR_SHARED, pack, 'labels.csv'), taxonomy).map((p) => ({ ...p, pack })))
    // Photos of an animal the corrections teach as a new taxon are that taxon's, not "other": leave them out of the base set.
    .filter((p) => !(p.imagenetIndex === null && p.row.breed && newLabelSet.has(proposedTaxonId(p.row.breed.replace(/_/g, ' ')))))
    .filter((p) => !(opts.holdout ?? []).some((h) => h.file === p.file));
  const evalPhotos = [
    ...readLabelledPhotos(path.join(DATA_DIR_SHARED, EVAL_PACK), path.join(DATA_DIR_SHARED, EVAL_PACK, 'labels.csv'), taxonomy).map((p) => ({ file: p.file, label: p.label })),
    ...(opts.holdout ?? []),
  ];
  const allFiles = [...basePhotos.map((p) => p.file), ...evalPhotos.map((p) => p.file)];
  const { features, stats } = await embedPhotos(classifier, allFiles, { onProgress: (d) => opts.progress?.('embed', d, allFiles.length) });
  await classifier.release();
  log(`embeddings: ${stats.cached} cached, ${stats.computed} computed, ${stats.failed.length} unreadable`);
  const otherOf = (f: PhotoFeatures) => f.logits[f.logits.length - 1] * parentT;

  // 2. Quality checks on the corrections.
  const compatible = new Set(manifest.versions.filter((v) => v.base.sha256 === parent.base.sha256 && v.outputs.embeddingSize === parent.outputs.embeddingSize).map((v) => v.version));
  // The base model's view of every correction, computed once in a batch: its fixed "other" logit and the parent's logits.
  const E = parent.outputs.embeddingSize;
  const usable = corrections.filter((c) => c.embedding.length === E);
  const corrX = new Float32Array(usable.length * E);
  usable.forEach((c, i) => corrX.set(c.embedding, i * E));
  const otherOfCorrection = new Map<TrainingCorrection, number>();
  const parentLogitsOf = new Map<TrainingCorrection, Float32Array>();
  if (usable.length) {
    const otherLogits = await batchLogits(base.otherRows, corrX, usable.length);
    const priorLogits = await batchLogits(prior, corrX, usable.length);
    const O = base.otherRows.classes;
    usable.forEach((c, i) => {
      const other = logSumExp(otherLogits.subarray(i * O, (i + 1) * O));
      otherOfCorrection.set(c, other);
      const l = new Float32Array(prior.classes + 1);
      l.set(priorLogits.subarray(i * prior.classes, (i + 1) * prior.classes));
      l[prior.classes] = other;
      parentLogitsOf.set(c, l);
    });
  }
  const parentProb = (c: TrainingCorrection) => {
    const k = parentLabels.indexOf(c.label);
    const l = parentLogitsOf.get(c);
    if (k < 0 || !l) return null;
    return softmax(l)[k];
  };
  const baseItems: Item[] = basePhotos.flatMap((p) => {
    const f = features.get(p.file);
    return f ? [{ group: `photo:${f.photoSha256}`, label: p.label, embedding: f.embedding, other: otherOf(f), source: p.pack }] : [];
  });
  const inPlay = new Set(corrections.map((c) => c.label));
  const { kept, report: quality } = checkCorrections(corrections, {
    ...DEFAULT_QUALITY,
    embeddingSize: parent.outputs.embeddingSize,
    modelVersions: compatible,
    minPerClass: opts.minPerClass ?? DEFAULT_QUALITY.minPerClass,
    maxSuspiciousShare: opts.maxSuspiciousShare ?? DEFAULT_QUALITY.maxSuspiciousShare,
  }, parentProb, baseItems.filter((b) => inPlay.has(b.label)));
  result.quality = quality;
  for (const w of quality.warnings) log(`warning: ${w}`);
  if (quality.poisoned) {
    result.reasons.push('quality checks refused the batch: it looks poisoned');
    return finish();
  }

  // Classes: the parent's rows, then new taxa, then the fixed "other".
  const newLabels = [...new Set(kept.map((c) => c.label).filter((l) => !parentLabels.includes(l)))].sort();
  const learned = [...parentLabels, ...newLabels];
  const labels = [...learned, OTHER_LABEL];
  const K = learned.length;
  const classIndex = new Map(labels.map((l, i) => [l, i]));
  const corrItems: Item[] = kept.map((c) => ({ group: `install:${c.installId}`, label: c.label, embedding: c.embedding, other: otherOfCorrection.get(c) ?? base.otherLogit(c.embedding), source: 'corrections' }));
  const items = [...baseItems, ...corrItems].filter((it) => classIndex.has(it.label));
  const counts: Record<string, number> = {};
  for (const it of items) counts[it.label] = (counts[it.label] ?? 0) + 1;
  result.counts = { base: baseItems.length, corrections: corrections.length, correctionsKept: kept.length, evaluation: evalPhotos.length, newTaxa: newLabels.length };
  log(`examples per class: ${Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l}=${n}`).join(' ')}`);
  if (!opts.baseOnly && !kept.length) {
    result.reasons.push('no accepted corrections passed the checks: nothing to retrain on');
    return finish();
  }

  // 3. Grouped, stratified split.
  // imagenet-samples photos may have been in ImageNet training (../shared/data/README.md): the model is overconfident
  // on them, so they train but never calibrate the temperature.
  const seen = items.filter((it) => it.source === 'imagenet-samples-animals');
  // A class seen from fewer than 10 installs needs all of them to learn from; it is judged on held-out photos instead.
  const split = groupedSplit(items.filter((it) => it.source !== 'imagenet-samples-animals'), opts.validationShare ?? 0.2, opts.seed ?? 1, opts.minGroupsForValidation ?? 10);
  const train = [...split.train, ...seen], validation = split.validation;
  const toExamples = (xs: Item[]): Examples => {
    const D = parent.outputs.embeddingSize;
    const x = new Float32Array(xs.length * D);
    xs.forEach((it, i) => x.set(it.embedding, i * D));
    return { n: xs.length, dim: D, x, y: Int32Array.from(xs.map((it) => classIndex.get(it.label)!)), fixed: Float32Array.from(xs.map((it) => it.other)), fixedCount: 1 };
  };
  const trainEx = toExamples(train), valEx = toExamples(validation);
  result.counts.train = train.length;
  result.counts.validation = validation.length;

  // 4. Head: parent rows as they are; new rows imprinted from the ImageNet rows the base model gives their examples.
  const D = prior.dim;
  const init: Head = { classes: K, dim: D, weights: new Float32Array(K * D), bias: new Float32Array(K) };
  init.weights.set(prior.weights);
  init.bias.set(prior.bias);
  newLabels.forEach((label, r) => {
    const k = parentLabels.length + r;
    const mine = train.filter((it) => it.label === label).slice(0, 50); // 50 examples are plenty for a starting point
    const acc = new Float64Array(D + 1);
    for (const it of mine) {
      const p = softmax(base.imagenetLogits(it.embedding));
      for (let c = 0; c < p.length; c++) {
        if (p[c] < 1e-3) continue;
        for (let j = 0; j < D; j++) acc[j] += p[c] * base.imagenet.weights[c * D + j];
        acc[D] += p[c] * base.imagenet.bias[c];
      }
    }
    for (let j = 0; j < D; j++) init.weights[k * D + j] = acc[j] / Math.max(1, mine.length);
    init.bias[k] = acc[D] / Math.max(1, mine.length);
  });
  // Stage 1: the new rows alone, against the parent's rows and "other" held fixed, so new taxa learn to
  // win on their photos and to stay below the launch taxa and "other" elsewhere.
  const t0 = performance.now();
  const N = newLabels.length;
  const P = parentLabels.length;
  let staged: Head = init;
  if (N) {
    const fixed = new Float32Array(trainEx.n * (P + 1));
    const priorTrain = await batchLogits(prior, trainEx.x, trainEx.n);
    for (let i = 0; i < trainEx.n; i++) {
      fixed.set(priorTrain.subarray(i * P, (i + 1) * P), i * (P + 1));
      fixed[i * (P + 1) + P] = trainEx.fixed![i];
    }
    const yNew = Int32Array.from(trainEx.y, (y) => (y >= P && y < K ? y - P : y < P ? N + y : N + P));
    const countsNew = new Map<number, number>();
    for (const y of yNew) countsNew.set(y, (countsNew.get(y) ?? 0) + 1);
    // Each new class weighs like `newTaxaWeight` examples in all, whatever its count (it is up against hundreds of "other" photos).
    const newWeight = opts.newTaxaWeight ?? 300;
    const w = Float32Array.from(yNew, (y) => (y < N ? Math.max(1, newWeight / countsNew.get(y)!) : 1));
    const initNew: Head = { classes: N, dim: D, weights: init.weights.slice(P * D), bias: init.bias.slice(P) };
    const newEpochs = opts.newTaxaEpochs ?? 40;
    const trainedNew = trainHead({ n: trainEx.n, dim: D, x: trainEx.x, y: yNew, fixed, fixedCount: P + 1 }, {
      init: initNew, lambda: opts.newTaxaLambda ?? 0.3, epochs: newEpochs, learningRate: opts.newTaxaLearningRate ?? 1e-3, batchSize: opts.batchSize ?? 32, seed: opts.seed ?? 1, sampleWeight: w,
      onEpoch: (e, loss) => { opts.progress?.('new taxa', e + 1, newEpochs); if (e === newEpochs - 1) log(`new-taxa rows: loss ${loss.toFixed(4)} after ${newEpochs} epochs`); },
    });
    staged = { ...init, weights: init.weights.slice(), bias: init.bias.slice() };
    staged.weights.set(trainedNew.weights, P * D);
    staged.bias.set(trainedNew.bias, P);
  }
  // Stage 2: every row together, regularized toward the parent's rows (and the stage-1 new rows).
  const trainCounts = new Map<number, number>();
  for (const y of trainEx.y) trainCounts.set(y, (trainCounts.get(y) ?? 0) + 1);
  const sampleWeight = Float32Array.from(trainEx.y, (y) => (y === K ? 1 : y >= P ? Math.max(1, (opts.newTaxaWeight ?? 300) / trainCounts.get(y)!) : 1));
  // The launch rows only move when there is something new to learn about them: corrections that name a
  // launch taxon, or a base-only run. The base photos alone (about one per taxon, partly seen in ImageNet
  // training) do not beat the current head, and nudging it flips borderline photos (see README).
  const launchCorrections = kept.filter((c) => parentLabels.includes(c.label)).length;
  const epochs = opts.epochs ?? (opts.baseOnly || launchCorrections > 0 ? 10 : 0);
  if (!epochs) log('no correction names a launch taxon: the launch rows keep the current weights (joint stage skipped; --epochs N forces it)');
  const head = epochs ? trainHead(trainEx, {
    init: staged, prior: staged, lambda: opts.lambda ?? 1, epochs, learningRate: opts.learningRate ?? 1e-4, batchSize: opts.batchSize ?? 32, seed: opts.seed ?? 1, sampleWeight,
    onEpoch: (e, loss) => { opts.progress?.('train', e + 1, epochs); if (e === epochs - 1) log(`all rows: loss ${loss.toFixed(4)} after ${epochs} epochs`); },
  }) : staged;
  // Temperature on at most 2,000 validation examples (an even sample): plenty for one parameter, and fast at any size.
  const step = Math.max(1, Math.ceil(validation.length / 2000));
  const tempEx = step === 1 ? valEx : toExamples(validation.filter((_, i) => i % step === 0));
  const temperature = validation.length ? fitTemperature(head, tempEx) : 1;
  result.trainSeconds = (performance.now() - t0) / 1000;
  result.temperature = temperature;
  log(`trained ${K} rows on ${train.length} examples in ${result.trainSeconds.toFixed(1)} s; temperature ${temperature.toFixed(3)} from ${validation.length} validation examples`);

  // 5. Evaluation on the fixed set, candidate and current, same labels.
  const evalItems = evalPhotos.flatMap((p) => { const f = features.get(p.file); return f && classIndex.has(p.label) ? [{ ...p, f }] : []; });
  const evalEx = toExamples(evalItems.map((e) => ({ group: '', label: e.label, embedding: e.f.embedding, other: otherOf(e.f), source: 'eval' })));
  const candProbs = predictAll(head, evalEx, temperature);
  const curProbs = evalItems.map((e) => {
    const p = softmax(e.f.logits);
    const out = new Float32Array(labels.length);
    parent.labels.forEach((l, i) => { out[classIndex.get(l)!] = p[i]; });
    return out;
  });
  const y = Int32Array.from(evalItems.map((e) => classIndex.get(e.label)!));
  const current = evaluate(curProbs, y, labels.length);
  const candidate = evaluate(candProbs, y, labels.length);
  const support = labels.map((_, k) => y.filter((v) => v === k).length);
  const launchIdx = parentLabels.map((l) => classIndex.get(l)!);
  const verdict = gate(current, candidate, launchIdx, labels, opts.gateRules ?? DEFAULT_GATE, support);
  result.metrics = { current: summary(current), candidate: summary(candidate) };
  const newIdx = newLabels.map((l) => classIndex.get(l)!).filter((k) => support[k] > 0);
  if (newIdx.length) {
    result.newTaxaRecall = Object.fromEntries(newIdx.map((k) => [labels[k], candidate.perClassRecall[k]]));
    log(`new taxa on held-out photos: ${Object.entries(result.newTaxaRecall).map(([l, r]) => `${l} ${(r * 100).toFixed(0)}%`).join(', ')}`);
  }
  result.gate = verdict;
  const requireImprovement = opts.requireImprovement ?? !!opts.baseOnly;
  const improved = candidate.top1 > current.top1;
  if (!verdict.pass) result.reasons.push(...verdict.reasons);
  if (requireImprovement && !improved) result.reasons.push(`top-1 did not improve (${(current.top1 * 100).toFixed(2)}% -> ${(candidate.top1 * 100).toFixed(2)}%)`);
  log(`gate: ${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reasons.join('; ')}`);

  const version = nextVersion(manifest, 'minor');
  const byId = new Map(taxonomy.taxa.map((t) => [t.id, t]));
  const parentExtra = new Map((parent.extraTaxa ?? []).map((t) => [t.id, t]));
  result.newTaxa = [...parentExtra.values(), ...newLabels.map((id): ExtraTaxon => ({ id, commonName: names[id] ?? id.replace(/^proposed-/, '').replace(/-/g, ' '), scientificName: '', rank: 'species', lineage: {}, note: `learned from accepted corrections (run ${runId})` }))]
    .filter((t) => labels.includes(t.id) && !byId.has(t.id));
  const taxaIndex = loadTaxonIndex(undefined, result.newTaxa as Taxon[]);
  const reportHtml = () => renderReport({ runId, parent: parent.version, version: result.registered ? version : null, labels, names: labels.map((l) => taxaIndex.byId.get(l)?.commonName ?? l), current, candidate, support, verdict, reasons: result.reasons, counts, quality, temperature });
  if (result.reasons.length || opts.register === false) {
    writeFileSync(path.join(runDir, 'report.html'), reportHtml());
    return finish();
  }

  // 6. Export, check in both runtimes, register.
  const labelsSha256 = sha256(labelsText(labels));
  const bytes = exportWithHead(parentBytes, head, { temperature, version, labelsSha256 });
  const samples = evalItems.slice(0, 4);
  const probe = await NodeClassifier.load({ registryDir, threads: 1 });
  const size = parent.input.size;
  const stacked = new Float32Array(samples.length * 3 * size * size);
  for (let i = 0; i < samples.length; i++) stacked.set(await probe.tensorFor(new Uint8Array((await import('node:fs')).readFileSync(samples[i].file))), i * 3 * size * size);
  await probe.release();
  const check = await crossRuntimeCheck(bytes, stacked, samples.length, size, parent.input.name);
  let maxFloat = 0;
  for (let i = 0; i < samples.length; i++) {
    const e = check.embedding.subarray(i * D, (i + 1) * D);
    const other = check.node[i * labels.length + K] * temperature;
    const want = expectedLogits(head, e, other, temperature);
    for (let k = 0; k < labels.length; k++) maxFloat = Math.max(maxFloat, Math.abs(want[k] - check.node[i * labels.length + k]));
  }
  result.crossRuntime = { maxAbsDiffNodeWeb: check.maxAbsDiff, maxAbsDiffFloatHead: maxFloat };
  log(`export check on ${samples.length} photos: max |node - web| = ${check.maxAbsDiff.toExponential(2)}, max |node - float head| = ${maxFloat.toExponential(2)}`);
  if (check.maxAbsDiff > 1e-3 || maxFloat > 1e-3) {
    result.reasons.push(`exported graph disagrees: node vs web ${check.maxAbsDiff}, node vs float head ${maxFloat}`);
    return finish();
  }
  const meta: Omit<ModelVersion, 'file' | 'sha256' | 'bytes'> = {
    version,
    base: parent.base,
    input: parent.input,
    outputs: parent.outputs,
    labels,
    labelsSha256,
    abstainThreshold: parent.abstainThreshold,
    calibration: { dataset: 'retrain validation split', n: validation.length, objective: 'temperature scaling (validation NLL)' },
    taxonomyVersion: parent.taxonomyVersion,
    ...(result.newTaxa.length ? { extraTaxa: result.newTaxa } : {}),
    metrics: { top1: candidate.top1, top5: candidate.top5, macroF1: candidate.macroF1, ece: candidate.ece, evalN: candidate.n },
    lineage: { parent: parent.version, data: { ...result.counts }, commit: gitCommit(), run: runId },
    temperature,
    createdAt: new Date().toISOString(),
  };
  registerVersion(bytes, meta, registryDir);
  result.registered = true;
  result.version = version;
  const html = reportHtml();
  for (const dir of [runDir, path.join(registryDir, version)]) {
    writeFileSync(path.join(dir, 'report.html'), html);
    writeFileSync(path.join(dir, 'verdict.json'), JSON.stringify(result, null, 2) + '\n');
  }
  log(`registered ${version} (candidate; active stays ${readManifest(registryDir)!.active})`);
  return finish();
}
