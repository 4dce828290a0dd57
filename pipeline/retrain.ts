/**
 * One retraining run: accepted corrections + the base labelled photos ->
 * quality checks -> new taxa split by install (held-out installs never
 * train) -> head training -> temperature (only from launch-taxa validation)
 * -> gate: non-regression on photos both models can name, and each new taxon
 * on its held-out installs -> ONNX export of the admitted rows, cross-runtime
 * check, registration as a candidate under the registry lock, HTML report.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fitTemperature, predictAll, type Head } from '../core/head-train.ts';
import { bootstrapEce, evaluate, pairedEceChange, topOne, type EceInterval, type Evaluation } from '../core/classifier-metrics.ts';
import { gate, judgeNewTaxon, DEFAULT_GATE, type GateRules, type GateVerdict, type NewTaxonDecision } from '../core/retrain-gate.ts';
import { labelsText, type ExtraTaxon, type ModelVersion } from '../core/manifest.ts';
import { OTHER_LABEL, type Taxon } from '../core/taxonomy.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { writeOccurrenceTable } from './occurrence-table.ts';
import { loadTaxonomy, loadVersion, loadTaxonIndex, nextVersion, registerVersion, sha256, readManifest } from '../node/registry.ts';
import { withRegistryLock } from '../node/registry-lock.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { DATA_DIR_SHARED, MODELS_DIR, REGISTRY_DIR, REPO_ROOT } from '../node/paths.ts';
import { normalizeProposedName } from '../core/monitoring.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { acceptedCorrections } from './feedback-input.ts';
import { BaseHead, batchLogits, logSumExp, selectRows } from './base-head.ts';
import { embedPhotos, type PhotoFeatures } from './embed-cache.ts';
import { checkCorrections, DEFAULT_QUALITY, type QualityReport, type TrainingCorrection } from './quality.ts';
import { groupedSplit } from './split.ts';
import { splitNewTaxaByInstall } from './new-taxa-holdout.ts';
import { liveActiveVersion } from './parent.ts';
import { softmax, toExamples, trainCandidate, type Item, type TrainingKnobs } from './train-candidate.ts';
import { crossRuntimeCheck, expectedLogits, exportWithHead, splicedHead } from './export.ts';
import { renderReport, type CurveRow } from './report.ts';

export const BASE_PACKS = ['imagenet-samples-animals', 'gcompris-animals', 'oxford-pets'] as const;
export const EVAL_PACK = 'imagenet-val-animals';
/** The registry whose manifest is committed: runs leave it alone unless told to write it. */
export const TRACKED_REGISTRY_DIR = path.join(MODELS_DIR, 'registry');
/**
 * The temperature is fitted only on validation data with at least this many
 * launch-taxon examples. Fitted on "other" photos alone (what the split gives
 * when no correction names a launch taxon) it sharpened every class (T = 0.47);
 * without enough launch examples the parent's temperature is kept.
 */
export const MIN_LAUNCH_FOR_TEMPERATURE = 50;

/** The training knobs are train-candidate's (TrainingKnobs), so `retrain` and `curve` take the same ones. */
export interface RetrainOptions extends TrainingKnobs {
  registryDir?: string;
  /** Write the registry even when it is the tracked models/registry (its manifest is committed). */
  writeTrackedManifest?: boolean;
  /** Accepted corrections come from here (or pass `corrections`); the parent is its live active version. */
  store?: FeedbackStore;
  corrections?: TrainingCorrection[];
  /** Names for new taxa (label id -> proposed name), when corrections are passed directly. */
  proposedNames?: Record<string, string>;
  /** The parent version, when there is no feedback store to read the live active version from. */
  parentVersion?: string;
  /** Skip corrections entirely (a head from ../shared data alone). */
  baseOnly?: boolean;
  /** Also embed tiny-imagenet-animals into the base set. */
  tinyImagenet?: boolean;
  minPerClass?: number;
  maxSuspiciousShare?: number;
  validationShare?: number;
  /** Classes with fewer installs (groups) than this stay wholly in training. */
  minGroupsForValidation?: number;
  /** Epochs of the joint stage (all rows, regularized toward the parent); 0 keeps the parent's rows as they are.
   * Default: 10 when corrections name launch taxa or in a base-only run, else 0. */
  epochs?: number;
  gateRules?: GateRules;
  register?: boolean;
  outDir?: string;
  runId?: string;
  threads?: number;
  /** A `pipeline -- curve` table to draw in the report. */
  curve?: CurveRow[];
  log?: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface SharedLabelSummary {
  n: number;
  current: { top1: number; ece: EceInterval };
  candidate: { top1: number; ece: EceInterval };
  top1Change: { difference: number; lo: number; hi: number };
  mcnemar: { losses: number; gains: number; p: number; method: string };
  eceChange: { change: number; lo: number; hi: number };
}

export interface RetrainResult {
  runId: string;
  runDir: string;
  parent: string;
  /** Where the parent came from: the database's live active version, or the manifest when no store was given. */
  parentSource: 'database' | 'manifest' | 'option';
  registered: boolean;
  version: string | null;
  gate: GateVerdict | null;
  reasons: string[];
  quality: QualityReport | null;
  counts: Record<string, number>;
  newTaxa: ExtraTaxon[];
  /** Every new taxon the corrections name: admitted, or collecting with what it still needs. */
  newTaxaDecisions: NewTaxonDecision[];
  /** Held-out correction event ids per judged new taxon (so a caller can score them again). */
  heldOutEvents: Record<string, string[]>;
  /** Non-regression on photos whose labels both models know. */
  sharedLabels: SharedLabelSummary | null;
  temperature: number | null;
  temperatureSource: string | null;
  crossRuntime: { maxAbsDiffNodeWeb: number; maxAbsDiffFloatHead: number } | null;
  trainSeconds: number;
}

export function gitCommit(): string {
  try { return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
}

export async function collectCorrections(store: FeedbackStore): Promise<{ corrections: TrainingCorrection[]; names: Record<string, string> }> {
  const corrections: TrainingCorrection[] = [];
  const names: Record<string, string> = {};
  for await (const c of acceptedCorrections(store)) {
    const label = c.taxonId ?? normalizeProposedName(c.proposedName ?? '');
    if (!c.taxonId && c.proposedName) names[label] ??= c.proposedName;
    corrections.push({ eventId: c.eventId, correctsEventId: c.correctsEventId, installId: c.installId, modelVersion: c.modelVersion, label, embedding: Float32Array.from(c.embedding) });
  }
  return { corrections, names };
}

export async function retrain(opts: RetrainOptions = {}): Promise<RetrainResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const registryDir = path.resolve(opts.registryDir ?? REGISTRY_DIR);
  const rules = opts.gateRules ?? DEFAULT_GATE;
  const seed = opts.seed ?? 1;
  const runId = opts.runId ?? `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  const runDir = path.join(opts.outDir ?? path.join(REPO_ROOT, 'reports', 'retrain'), runId);
  mkdirSync(runDir, { recursive: true });
  const taxonomy = loadTaxonomy();
  const manifest0 = readManifest(registryDir);
  if (!manifest0) throw new Error(`no model registry at ${registryDir}; run \`npm run models:build\` first`);
  // The parent is what devices run: the live active version, not the manifest's `active`.
  let parentVersion = opts.parentVersion;
  let parentSource: RetrainResult['parentSource'] = 'option';
  if (!parentVersion && opts.store) { parentVersion = await liveActiveVersion(opts.store, manifest0); parentSource = 'database'; }
  else if (!parentVersion) { parentVersion = manifest0.active; parentSource = 'manifest'; }
  const { manifest, model: parent, bytes: parentBytes } = loadVersion(parentVersion, registryDir);
  log(`parent ${parent.version} (${parentSource === 'database' ? 'live active version in the database' : parentSource === 'manifest' ? "manifest's active: no feedback store given" : 'given'})`);
  const parentT = parent.temperature ?? 1;
  const launchTaxa = taxonomy.taxa.filter((t) => t.imagenetIndex != null);
  const base = new BaseHead(parentBytes, launchTaxa.map((t) => t.imagenetIndex!));
  const parentLabels = parent.labels.filter((l) => l !== OTHER_LABEL);
  const prior: Head = splicedHead(parentBytes) ?? base.launch;
  if (prior.classes !== parentLabels.length) throw new Error(`parent ${parent.version}: ${prior.classes} head rows for ${parentLabels.length} labels`);
  const result: RetrainResult = {
    runId, runDir, parent: parent.version, parentSource, registered: false, version: null, gate: null, reasons: [], quality: null, counts: {}, newTaxa: [], newTaxaDecisions: [], heldOutEvents: {},
    sharedLabels: null, temperature: null, temperatureSource: null, crossRuntime: null, trainSeconds: 0,
  };
  const finish = () => {
    writeFileSync(path.join(runDir, 'verdict.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  };
  const tracked = registryDir === path.resolve(TRACKED_REGISTRY_DIR);
  const wantRegister = opts.register !== false;
  if (wantRegister && tracked && !opts.writeTrackedManifest) {
    log(`warning: ${registryDir} is the tracked registry (its manifest is committed): this run will not register; set WILDSIGHT_REGISTRY (or --registry) to a registry of your own, or pass --write-tracked-manifest`);
  }

  // 1. Data: base photos and the evaluation set through the current backbone (cached).
  const classifier = await NodeClassifier.load({ registryDir, version: parent.version, threads: opts.threads ?? 2 });
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
    .filter((p) => !(p.imagenetIndex === null && p.row.breed && newLabelSet.has(normalizeProposedName(p.row.breed.replace(/_/g, ' ')))));
  // Non-regression is judged on these photos only: every label is a launch taxon or "other", which both models know.
  const evalPhotos = readLabelledPhotos(path.join(DATA_DIR_SHARED, EVAL_PACK), path.join(DATA_DIR_SHARED, EVAL_PACK, 'labels.csv'), taxonomy).map((p) => ({ file: p.file, label: p.label }));
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

  // 3. New taxa: held-out installs per taxon (they never train); taxa from too few installs are not trained.
  const newLabelsAll = [...new Set(kept.map((c) => c.label).filter((l) => !parentLabels.includes(l)))].sort();
  const byInstall = splitNewTaxaByInstall(kept, newLabelsAll, rules.newTaxon, seed);
  const newLabels = newLabelsAll.filter((l) => byInstall.heldOut.has(l));
  const learned = [...parentLabels, ...newLabels];
  const labels = [...learned, OTHER_LABEL];
  const K = learned.length;
  const classIndex = new Map(labels.map((l, i) => [l, i]));
  const corrItem = (c: TrainingCorrection): Item => ({ group: `install:${c.installId}`, label: c.label, embedding: c.embedding, other: otherOfCorrection.get(c) ?? base.otherLogit(c.embedding), source: 'corrections' });
  const corrItems = byInstall.train.map(corrItem);
  const items = [...baseItems, ...corrItems].filter((it) => classIndex.has(it.label));
  const counts: Record<string, number> = {};
  for (const it of items) counts[it.label] = (counts[it.label] ?? 0) + 1;
  result.counts = { base: baseItems.length, corrections: corrections.length, correctionsKept: kept.length, correctionsTraining: corrItems.length, heldOutInstalls: byInstall.heldOutInstalls.size, evaluation: evalPhotos.length, newTaxaJudged: newLabels.length };
  log(`examples per class: ${Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l}=${n}`).join(' ')}`);
  // Taxa the quality checks held back (too few corrections) are collecting too.
  const heldBackNew = Object.keys(quality.heldBackClasses).filter((l) => !parentLabels.includes(l) && !newLabelsAll.includes(l));
  const installsOf = (l: string, from: readonly TrainingCorrection[]) => new Set(from.filter((c) => c.label === l).map((c) => c.installId)).size;
  if (!opts.baseOnly && !kept.length) {
    result.newTaxaDecisions = heldBackNew.map((l) => judgeNewTaxon({ id: l, installs: installsOf(l, corrections), corrections: corrections.filter((c) => c.label === l).length, heldOut: null }, rules.newTaxon));
    result.reasons.push('no accepted corrections passed the checks: nothing to retrain on');
    for (const d of result.newTaxaDecisions) result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
    return finish();
  }

  // 4. Grouped, stratified split for validation (temperature only).
  // imagenet-samples photos may have been in ImageNet training (../shared/data/README.md): the model is overconfident
  // on them, so they train but never calibrate. New-taxon corrections all train: they are judged on held-out installs.
  const newSet = new Set(newLabels);
  const seen = items.filter((it) => it.source === 'imagenet-samples-animals' || newSet.has(it.label));
  const split = groupedSplit(items.filter((it) => it.source !== 'imagenet-samples-animals' && !newSet.has(it.label)), opts.validationShare ?? 0.2, seed, opts.minGroupsForValidation ?? 10);
  const train = [...split.train, ...seen], validation = split.validation;
  result.counts.train = train.length;
  result.counts.validation = validation.length;

  // 5. Head: parent rows, then the judged new taxa (stage 1), every row only when launch taxa have corrections.
  // The launch rows only move when there is something new to learn about them: corrections that name a
  // launch taxon, or a base-only run. The base photos alone (about one per taxon, partly seen in ImageNet
  // training) do not beat the current head, and nudging it flips borderline photos (see README).
  const launchCorrections = byInstall.train.filter((c) => parentLabels.includes(c.label)).length;
  const epochs = opts.epochs ?? (opts.baseOnly || launchCorrections > 0 ? 10 : 0);
  if (!epochs) log('no correction names a launch taxon: the launch rows keep the current weights (joint stage skipped; --epochs N forces it)');
  const { head, seconds } = await trainCandidate(prior, base, parentLabels, newLabels, train, {
    epochs, newTaxaEpochs: opts.newTaxaEpochs, newTaxaLearningRate: opts.newTaxaLearningRate, newTaxaLambda: opts.newTaxaLambda, newTaxaWeight: opts.newTaxaWeight,
    learningRate: opts.learningRate, lambda: opts.lambda, batchSize: opts.batchSize, seed, progress: opts.progress, log,
  });
  result.trainSeconds = seconds;
  // Temperature: only from validation that holds launch taxa (see MIN_LAUNCH_FOR_TEMPERATURE); else the parent's.
  const launchSet = new Set(parentLabels);
  const launchInValidation = validation.filter((it) => launchSet.has(it.label)).length;
  let temperature = parentT;
  if (launchInValidation >= MIN_LAUNCH_FOR_TEMPERATURE) {
    // At most 2,000 validation examples (an even sample): plenty for one parameter, and fast at any size.
    const step = Math.max(1, Math.ceil(validation.length / 2000));
    temperature = fitTemperature(head, toExamples(validation.filter((_, i) => i % step === 0), classIndex, E));
    result.temperatureSource = `fitted on ${validation.length} validation examples, ${launchInValidation} of launch taxa`;
  } else {
    result.temperatureSource = `not fitted: ${launchInValidation} launch-taxon examples in validation (needs ${MIN_LAUNCH_FOR_TEMPERATURE}); the parent's ${parentT.toFixed(3)} is kept`;
  }
  result.temperature = temperature;
  log(`trained ${K} rows on ${train.length} examples in ${seconds.toFixed(1)} s; temperature ${temperature.toFixed(3)} (${result.temperatureSource})`);

  // 6. New taxa on their held-out installs (the head with every judged row), then each one's decision.
  const decisions: NewTaxonDecision[] = [];
  for (const l of [...newLabelsAll, ...heldBackNew].sort()) {
    const held = byInstall.heldOut.get(l);
    let heldOut: { n: number; hits: number } | null = null;
    if (held) {
      const probs = predictAll(head, toExamples(held.map(corrItem), classIndex, E), temperature);
      const k = classIndex.get(l)!;
      heldOut = { n: held.length, hits: probs.filter((p) => p.indexOf(Math.max(...p)) === k).length };
      result.heldOutEvents[l] = held.map((c) => c.eventId);
    }
    const from = newLabelsAll.includes(l) ? kept : corrections;
    decisions.push(judgeNewTaxon({ id: l, installs: installsOf(l, from), corrections: from.filter((c) => c.label === l).length, heldOut }, rules.newTaxon));
  }
  result.newTaxaDecisions = decisions;
  for (const d of decisions) log(`new taxon ${d.id}: ${d.status}${d.heldOut ? ` (held out ${d.heldOut.hits}/${d.heldOut.n}, 95% CI ${(d.heldOut.lo * 100).toFixed(0)}-${(d.heldOut.hi * 100).toFixed(0)}%)` : ''}${d.needs ? `: ${d.needs.why}` : ''}`);

  // 7. The version's head: launch rows and the admitted new taxa only. Removing a row can only keep or raise
  //    the recall measured for the others (the argmax runs over fewer rows).
  const admitted = decisions.filter((d) => d.status === 'admitted').map((d) => d.id);
  const finalLearned = [...parentLabels, ...admitted];
  const finalLabels = [...finalLearned, OTHER_LABEL];
  const finalIndex = new Map(finalLabels.map((l, i) => [l, i]));
  const finalHead = selectRows(head, finalLearned.map((l) => classIndex.get(l)!));
  const FK = finalLearned.length;

  // 8. Non-regression on photos both models can name, candidate and current, same photos.
  const evalItems = evalPhotos.flatMap((p) => { const f = features.get(p.file); return f && finalIndex.has(p.label) ? [{ ...p, f }] : []; });
  const evalEx = toExamples(evalItems.map((e) => ({ group: '', label: e.label, embedding: e.f.embedding, other: otherOf(e.f), source: 'eval' })), finalIndex, E);
  const candProbs = predictAll(finalHead, evalEx, temperature);
  const curProbs = evalItems.map((e) => {
    const p = softmax(e.f.logits);
    const out = new Float32Array(finalLabels.length);
    parent.labels.forEach((l, i) => { out[finalIndex.get(l)!] = p[i]; });
    return out;
  });
  const y = Int32Array.from(evalItems.map((e) => finalIndex.get(e.label)!));
  const current = evaluate(curProbs, y, finalLabels.length);
  const candidate = evaluate(candProbs, y, finalLabels.length);
  const curTop = topOne(curProbs, y), candTop = topOne(candProbs, y);
  const eceChange = pairedEceChange(curTop, candTop, 1000, seed);
  const verdict = gate({
    shared: { currentHit: curTop.hit, candidateHit: candTop.hit, labels: y, names: finalLabels, eceChange },
    newTaxa: decisions, launchRowsChanged: epochs > 0, requireImprovement: !!opts.baseOnly,
  }, rules);
  const nr = verdict.nonRegression;
  result.sharedLabels = {
    n: evalItems.length,
    current: { top1: current.top1, ece: bootstrapEce(curTop.confidence, curTop.hit, 1000, seed) },
    candidate: { top1: candidate.top1, ece: bootstrapEce(candTop.confidence, candTop.hit, 1000, seed) },
    top1Change: { difference: nr.top1.difference, lo: nr.top1.lo, hi: nr.top1.hi },
    mcnemar: nr.mcnemar,
    eceChange,
  };
  result.gate = verdict;
  if (!verdict.pass) result.reasons.push(...verdict.reasons);
  for (const d of decisions) if (d.status === 'collecting') result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
  log(`gate: ${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reasons.join('; ')}`);

  const byId = new Map(taxonomy.taxa.map((t) => [t.id, t]));
  const parentExtra = new Map((parent.extraTaxa ?? []).map((t) => [t.id, t]));
  result.newTaxa = [...parentExtra.values(), ...admitted.map((id): ExtraTaxon => ({ id, commonName: names[id] ?? id.replace(/^proposed-/, '').replace(/-/g, ' '), scientificName: '', rank: 'species', lineage: {}, note: `learned from accepted corrections (run ${runId})` }))]
    .filter((t) => finalLabels.includes(t.id) && !byId.has(t.id));
  const taxaIndex = loadTaxonIndex(undefined, result.newTaxa as Taxon[]);
  const support = finalLabels.map((_, k) => y.filter((v) => v === k).length);
  const reportHtml = () => renderReport({
    runId, parent: parent.version, parentSource, version: result.version, labels: finalLabels, names: finalLabels.map((l) => taxaIndex.byId.get(l)?.commonName ?? l),
    current, candidate, support, verdict, reasons: result.reasons, counts, quality, temperature, temperatureSource: result.temperatureSource ?? '', shared: result.sharedLabels!, curve: opts.curve,
  });
  const blocked = !verdict.pass || !wantRegister || (tracked && !opts.writeTrackedManifest);
  if (verdict.pass && wantRegister && tracked && !opts.writeTrackedManifest) result.reasons.push(`not registered: ${registryDir} is the tracked registry; set WILDSIGHT_REGISTRY or pass --write-tracked-manifest`);
  if (blocked) {
    writeFileSync(path.join(runDir, 'report.html'), reportHtml());
    return finish();
  }

  // 9. Export, check in both runtimes, register: under the registry lock the admin API takes too, so the
  //    version number chosen here is still free when it is written.
  const labelsSha256 = sha256(labelsText(finalLabels));
  const samples = evalItems.slice(0, 4);
  const probe = await NodeClassifier.load({ registryDir, version: parent.version, threads: 1 });
  const size = parent.input.size;
  const stacked = new Float32Array(samples.length * 3 * size * size);
  for (let i = 0; i < samples.length; i++) stacked.set(await probe.tensorFor(new Uint8Array(readFileSync(samples[i].file))), i * 3 * size * size);
  await probe.release();
  await withRegistryLock(registryDir, async () => {
    const version = nextVersion(readManifest(registryDir)!, 'minor');
    const bytes = exportWithHead(parentBytes, finalHead, { temperature, version, labelsSha256 });
    const check = await crossRuntimeCheck(bytes, stacked, samples.length, size, parent.input.name);
    let maxFloat = 0;
    for (let i = 0; i < samples.length; i++) {
      const e = check.embedding.subarray(i * E, (i + 1) * E);
      const other = check.node[i * finalLabels.length + FK] * temperature;
      const want = expectedLogits(finalHead, e, other, temperature);
      for (let k = 0; k < finalLabels.length; k++) maxFloat = Math.max(maxFloat, Math.abs(want[k] - check.node[i * finalLabels.length + k]));
    }
    result.crossRuntime = { maxAbsDiffNodeWeb: check.maxAbsDiff, maxAbsDiffFloatHead: maxFloat };
    log(`export check on ${samples.length} photos: max |node - web| = ${check.maxAbsDiff.toExponential(2)}, max |node - float head| = ${maxFloat.toExponential(2)}`);
    if (check.maxAbsDiff > 1e-3 || maxFloat > 1e-3) {
      result.reasons.push(`exported graph disagrees: node vs web ${check.maxAbsDiff}, node vs float head ${maxFloat}`);
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
      calibration: launchInValidation >= MIN_LAUNCH_FOR_TEMPERATURE
        ? { dataset: 'retrain validation split', n: validation.length, objective: 'temperature scaling (validation NLL)' }
        : parent.calibration ?? { dataset: `inherited from ${parent.version}`, n: 0, objective: 'none: too few launch-taxon validation examples' },
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
  });
  if (!result.registered) { writeFileSync(path.join(runDir, 'report.html'), reportHtml()); return finish(); }
  const html = reportHtml();
  for (const dir of [runDir, path.join(registryDir, result.version!)]) {
    writeFileSync(path.join(dir, 'report.html'), html);
    writeFileSync(path.join(dir, 'verdict.json'), JSON.stringify(result, null, 2) + '\n');
  }
  if (opts.store) {
    // The location prior's cell-by-month table ships beside the version (pipeline/occurrence-table.ts).
    const occ = await writeOccurrenceTable(opts.store, path.join(registryDir, result.version!));
    log(`occurrence table: ${occ.cellsKept} cell-months from ${occ.observations} located corrections (${occ.cellsDropped} under the install minimum left out)`);
  }
  log(`registered ${result.version} (candidate; the live active version stays ${parent.version})`);
  return finish();
}
