/**
 * One retraining run: accepted corrections + the base labelled photos ->
 * quality checks -> new taxa split by install (held-out installs never
 * train) -> head training -> temperature (only from launch-taxa validation)
 * -> gate: non-regression on photos both models can name, and each new taxon
 * on its held-out installs -> ONNX export of the admitted rows, cross-runtime
 * check, registration as a candidate under the registry lock, HTML report.
 *
 * This file only orders the steps and keeps the run's record; each step is
 * its own module: retrain-data (corrections, photos, embeddings),
 * retrain-checks (the parent's view, quality checks), retrain-train (splits,
 * head, temperature), retrain-evaluate (held-out new taxa, the version's
 * head, the gate), retrain-export (graph, checks, registration).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Head } from '../core/head-train.ts';
import { DEFAULT_GATE, type GateRules, type GateVerdict, type NewTaxonDecision } from '../core/retrain-gate.ts';
import type { ExtraTaxon } from '../core/manifest.ts';
import { OTHER_LABEL, type Taxon } from '../core/taxonomy.ts';
import { loadTaxonomy, loadVersion, loadTaxonIndex, readManifest } from '../node/registry.ts';
import { MODELS_DIR, REGISTRY_DIR, REPO_ROOT } from '../node/paths.ts';
import { writeOccurrenceTable } from './occurrence-table.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { BaseHead, batchPredict } from './base-head.ts';
import type { PhotoFeatures } from './embed-cache.ts';
import type { QualityReport, TrainingCorrection } from './quality.ts';
import { liveActiveVersion } from './parent.ts';
import { toExamples, type Item, type TrainingKnobs, type TrainProfile } from './train-candidate.ts';
import { splicedHead } from './export.ts';
import { renderReport, type CurveRow } from './report.ts';
import { collectCorrections, loadPhotoData } from './retrain-data.ts';
import { parentView, runChecks } from './retrain-checks.ts';
import { MIN_LAUNCH_FOR_TEMPERATURE, planTraining, trainHeadWithTemperature, validationSplit } from './retrain-train.ts';
import { heldBackDecisions, judgeNewTaxa, sharedLabelGate, versionHead, type SharedLabelSummary } from './retrain-evaluate.ts';
import { exportAndRegister, gitCommit } from './retrain-export.ts';

export { BASE_PACKS, EVAL_PACK, collectCorrections } from './retrain-data.ts';
export { MIN_LAUNCH_FOR_TEMPERATURE } from './retrain-train.ts';
export type { SharedLabelSummary } from './retrain-evaluate.ts';
export { gitCommit };

/** The registry whose manifest is committed: runs leave it alone unless told to write it. */
export const TRACKED_REGISTRY_DIR = path.join(MODELS_DIR, 'registry');

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
  /** Keep the candidate's per-example answers (result.hits), to compare two trainings paired (bench:retrain). */
  keepHits?: boolean;
  log?: (line: string) => void;
  progress?: (stage: string, done: number, total: number) => void;
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
  /** Inside training: each stage's seconds, and batch gathering, gradient kernel and Adam updates across both. */
  trainProfile?: TrainProfile;
  /** Wall seconds per step (corrections, photos, checks, plan, split, train, evaluate, gate, export), where the time goes. */
  timings: Record<string, number>;
  /** With keepHits: whether the candidate's top-1 is right, per evaluation photo, per held-out new-taxon correction, per validation example. */
  hits?: { shared: boolean[]; heldOut: boolean[]; validation: boolean[] };
}

/**
 * A run's record: `timed(step)` ends a step (its wall time goes to result.timings under `step`), `finish()`
 * writes verdict.json into the run folder and returns the result. A pack retrain keeps its record the same way.
 */
export function runRecord<R extends { timings: Record<string, number> }>(result: R, runDir: string) {
  let lap = performance.now();
  return {
    timed: (step: string) => {
      const now = performance.now();
      result.timings[step] = (result.timings[step] ?? 0) + (now - lap) / 1000;
      lap = now;
    },
    finish: () => {
      writeFileSync(path.join(runDir, 'verdict.json'), JSON.stringify(result, null, 2) + '\n');
      return result;
    },
  };
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
  if (!parentVersion && opts.store) {
    parentVersion = await liveActiveVersion(opts.store, manifest0);
    parentSource = 'database';
  } else if (!parentVersion) {
    parentVersion = manifest0.active;
    parentSource = 'manifest';
  }
  const { manifest, model: parent, bytes: parentBytes } = loadVersion(parentVersion, registryDir);
  log(`parent ${parent.version} (${parentSource === 'database' ? 'live active version in the database' : parentSource === 'manifest' ? "manifest's active: no feedback store given" : 'given'})`);
  const parentT = parent.temperature ?? 1;
  const launchTaxa = taxonomy.taxa.filter((t) => t.imagenetIndex != null);
  const base = new BaseHead(
    parentBytes,
    launchTaxa.map((t) => t.imagenetIndex!),
  );
  const parentLabels = parent.labels.filter((l) => l !== OTHER_LABEL);
  const prior: Head = splicedHead(parentBytes) ?? base.launch;
  if (prior.classes !== parentLabels.length) throw new Error(`parent ${parent.version}: ${prior.classes} head rows for ${parentLabels.length} labels`);
  const result: RetrainResult = {
    runId,
    runDir,
    parent: parent.version,
    parentSource,
    registered: false,
    version: null,
    gate: null,
    reasons: [],
    quality: null,
    counts: {},
    newTaxa: [],
    newTaxaDecisions: [],
    heldOutEvents: {},
    sharedLabels: null,
    temperature: null,
    temperatureSource: null,
    crossRuntime: null,
    trainSeconds: 0,
    timings: {},
  };
  const { timed, finish } = runRecord(result, runDir);
  const tracked = registryDir === path.resolve(TRACKED_REGISTRY_DIR);
  const wantRegister = opts.register !== false;
  if (wantRegister && tracked && !opts.writeTrackedManifest) {
    log(
      `warning: ${registryDir} is the tracked registry (its manifest is committed): this run will not register; set WILDSIGHT_REGISTRY (or --registry) to a registry of your own, or pass --write-tracked-manifest`,
    );
  }

  // 1. Data: corrections, base photos and the evaluation set through the current backbone (cached).
  let corrections: TrainingCorrection[] = [];
  let names: Record<string, string> = { ...(opts.proposedNames ?? {}) };
  if (!opts.baseOnly) {
    if (opts.corrections) corrections = opts.corrections;
    else if (opts.store) {
      const got = await collectCorrections(opts.store);
      corrections = got.corrections;
      names = { ...got.names, ...names };
    }
  }
  timed('corrections');
  const newLabelSet = new Set(corrections.map((c) => c.label).filter((l) => !parentLabels.includes(l)));
  const { basePhotos, evalPhotos, features } = await loadPhotoData({
    taxonomy,
    registryDir,
    version: parent.version,
    threads: opts.threads ?? 2,
    tinyImagenet: opts.tinyImagenet,
    newLabels: newLabelSet,
    log,
    progress: opts.progress,
  });
  const otherOf = (f: PhotoFeatures) => f.logits[f.logits.length - 1] * parentT;
  timed('photos');

  // 2. Quality checks on the corrections.
  const compatible = new Set(manifest.versions.filter((v) => v.base.sha256 === parent.base.sha256 && v.outputs.embeddingSize === parent.outputs.embeddingSize).map((v) => v.version));
  const E = parent.outputs.embeddingSize;
  const view = await parentView(corrections, base, prior, E);
  const baseItems: Item[] = basePhotos.flatMap((p) => {
    const f = features.get(p.file);
    return f ? [{ group: `photo:${f.photoSha256}`, label: p.label, embedding: f.embedding, other: otherOf(f), source: p.pack }] : [];
  });
  const { kept, report: quality } = runChecks(corrections, view, {
    parentLabels,
    embeddingSize: E,
    compatibleVersions: compatible,
    baseItems,
    minPerClass: opts.minPerClass,
    maxSuspiciousShare: opts.maxSuspiciousShare,
  });
  result.quality = quality;
  timed('checks');
  for (const w of quality.warnings) log(`warning: ${w}`);
  if (quality.poisoned) {
    result.reasons.push('quality checks refused the batch: it looks poisoned');
    return finish();
  }

  // 3. New taxa: held-out installs per taxon (they never train); taxa from too few installs are not trained.
  const plan = planTraining(kept, { parentLabels, baseItems, view, base, rules: rules.newTaxon, seed });
  const { counts, corrItems, byInstall, newLabels } = plan;
  result.counts = {
    base: baseItems.length,
    corrections: corrections.length,
    correctionsKept: kept.length,
    correctionsTraining: corrItems.length,
    heldOutInstalls: byInstall.heldOutInstalls.size,
    evaluation: evalPhotos.length,
    newTaxaJudged: newLabels.length,
  };
  timed('plan');
  log(
    `examples per class: ${Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([l, n]) => `${l}=${n}`)
      .join(' ')}`,
  );
  // Taxa the quality checks held back (too few corrections) are collecting too.
  const heldBackNew = Object.keys(quality.heldBackClasses).filter((l) => !parentLabels.includes(l) && !plan.newLabelsAll.includes(l));
  if (!opts.baseOnly && !kept.length) {
    result.newTaxaDecisions = heldBackDecisions(heldBackNew, corrections, rules);
    result.reasons.push('no accepted corrections passed the checks: nothing to retrain on');
    for (const d of result.newTaxaDecisions) result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
    return finish();
  }

  // 4. Grouped, stratified split for validation (temperature only).
  const split = validationSplit(plan.items, newLabels, { validationShare: opts.validationShare, seed, minGroupsForValidation: opts.minGroupsForValidation });
  result.counts.train = split.train.length;
  result.counts.validation = split.validation.length;
  timed('split');

  // 5. Head: parent rows, then the judged new taxa (stage 1), every row only when launch taxa have corrections.
  // The launch rows only move when there is something new to learn about them: corrections that name a
  // launch taxon, or a base-only run. The base photos alone (about one per taxon, partly seen in ImageNet
  // training) do not beat the current head, and nudging it flips borderline photos (see README).
  const launchCorrections = byInstall.train.filter((c) => parentLabels.includes(c.label)).length;
  const epochs = opts.epochs ?? (opts.baseOnly || launchCorrections > 0 ? 10 : 0);
  if (!epochs) log('no correction names a launch taxon: the launch rows keep the current weights (joint stage skipped; --epochs N forces it)');
  const trained = await trainHeadWithTemperature(prior, base, parentLabels, plan, split, {
    epochs,
    newTaxaEpochs: opts.newTaxaEpochs,
    newTaxaLearningRate: opts.newTaxaLearningRate,
    newTaxaLambda: opts.newTaxaLambda,
    newTaxaWeight: opts.newTaxaWeight,
    learningRate: opts.learningRate,
    lambda: opts.lambda,
    batchSize: opts.batchSize,
    kernel: opts.kernel,
    threads: opts.threads,
    seed,
    progress: opts.progress,
    log,
    parentT,
    E,
  });
  const { head, temperature } = trained;
  result.trainSeconds = trained.seconds;
  result.trainProfile = trained.profile;
  result.temperatureSource = trained.temperatureSource;
  result.temperature = temperature;
  timed('train');
  log(`trained ${plan.labels.length - 1} rows on ${split.train.length} examples in ${trained.seconds.toFixed(1)} s; temperature ${temperature.toFixed(3)} (${result.temperatureSource})`);

  // 6. New taxa on their held-out installs (the head with every judged row), then each one's decision.
  const { decisions, heldOutEvents, heldOutHits } = await judgeNewTaxa(head, temperature, plan, heldBackNew, kept, corrections, rules, E);
  result.heldOutEvents = heldOutEvents;
  result.newTaxaDecisions = decisions;
  for (const d of decisions)
    log(
      `new taxon ${d.id}: ${d.status}${d.heldOut ? ` (held out ${d.heldOut.hits}/${d.heldOut.n}, 95% CI ${(d.heldOut.lo * 100).toFixed(0)}-${(d.heldOut.hi * 100).toFixed(0)}%)` : ''}${d.needs ? `: ${d.needs.why}` : ''}`,
    );

  // 7. The version's head: launch rows and the admitted new taxa only.
  const admitted = decisions.filter((d) => d.status === 'admitted').map((d) => d.id);
  const { finalLabels, finalIndex, finalHead, FK } = versionHead(head, plan, parentLabels, admitted);
  timed('evaluate');

  // 8. Non-regression on photos both models can name, candidate and current, same photos.
  const shared = sharedLabelGate({
    finalHead,
    finalLabels,
    finalIndex,
    temperature,
    parent,
    evalPhotos,
    features,
    otherOf,
    E,
    decisions,
    launchRowsChanged: epochs > 0,
    requireImprovement: !!opts.baseOnly,
    rules,
    seed,
  });
  const { verdict, current, candidate, y, evalItems } = shared;
  result.sharedLabels = shared.summary;
  timed('gate');
  if (opts.keepHits) {
    const validationEx = toExamples(split.validation, plan.classIndex, E);
    const validationHits = (await batchPredict(head, validationEx, temperature)).map((p, i) => p.indexOf(Math.max(...p)) === validationEx.y[i]);
    result.hits = {
      shared: shared.candidateHit,
      heldOut: Object.keys(heldOutHits)
        .sort()
        .flatMap((l) => heldOutHits[l]),
      validation: validationHits,
    };
  }
  timed('hits');
  result.gate = verdict;
  if (!verdict.pass) result.reasons.push(...verdict.reasons);
  for (const d of decisions) if (d.status === 'collecting') result.reasons.push(`${d.id}: collecting: ${d.needs?.why}`);
  timed('gate');
  log(`gate: ${verdict.pass ? 'PASS' : 'FAIL'}: ${verdict.reasons.join('; ')}`);

  const byId = new Map(taxonomy.taxa.map((t) => [t.id, t]));
  const parentExtra = new Map((parent.extraTaxa ?? []).map((t) => [t.id, t]));
  result.newTaxa = [
    ...parentExtra.values(),
    ...admitted.map((id): ExtraTaxon => ({
      id,
      commonName: names[id] ?? id.replace(/^proposed-/, '').replace(/-/g, ' '),
      scientificName: '',
      rank: 'species',
      lineage: {},
      note: `learned from accepted corrections (run ${runId})`,
    })),
  ].filter((t) => finalLabels.includes(t.id) && !byId.has(t.id));
  const taxaIndex = loadTaxonIndex(undefined, result.newTaxa as Taxon[]);
  const support = finalLabels.map((_, k) => y.filter((v) => v === k).length);
  const reportHtml = () =>
    renderReport({
      runId,
      parent: parent.version,
      parentSource,
      version: result.version,
      labels: finalLabels,
      names: finalLabels.map((l) => taxaIndex.byId.get(l)?.commonName ?? l),
      current,
      candidate,
      support,
      verdict,
      reasons: result.reasons,
      counts,
      quality,
      temperature,
      temperatureSource: result.temperatureSource ?? '',
      shared: result.sharedLabels!,
      curve: opts.curve,
    });
  const blocked = !verdict.pass || !wantRegister || (tracked && !opts.writeTrackedManifest);
  if (verdict.pass && wantRegister && tracked && !opts.writeTrackedManifest)
    result.reasons.push(`not registered: ${registryDir} is the tracked registry; set WILDSIGHT_REGISTRY or pass --write-tracked-manifest`);
  if (blocked) {
    writeFileSync(path.join(runDir, 'report.html'), reportHtml());
    return finish();
  }

  // 9. Export, check in both runtimes, register (under the registry lock).
  const exported = await exportAndRegister({
    registryDir,
    parent,
    parentBytes,
    finalHead,
    finalLabels,
    FK,
    temperature,
    samples: evalItems.slice(0, 4),
    E,
    candidate,
    newTaxa: result.newTaxa,
    calibration:
      trained.launchInValidation >= MIN_LAUNCH_FOR_TEMPERATURE
        ? { dataset: 'retrain validation split', n: split.validation.length, objective: 'temperature scaling (validation NLL)' }
        : (parent.calibration ?? { dataset: `inherited from ${parent.version}`, n: 0, objective: 'none: too few launch-taxon validation examples' }),
    counts: result.counts,
    runId,
    log,
  });
  result.crossRuntime = exported.crossRuntime;
  if (exported.reason) result.reasons.push(exported.reason);
  result.registered = exported.registered;
  result.version = exported.version;
  timed('export');
  if (!result.registered) {
    writeFileSync(path.join(runDir, 'report.html'), reportHtml());
    return finish();
  }
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
