/**
 * Quality checks on accepted corrections before they train anything:
 * duplicates, broken embeddings, conflicting labels, too-small classes, and a
 * poisoning defence (labels that disagree with both the current model and
 * the nearest neighbours).
 */
import { createHash } from 'node:crypto';

export interface TrainingCorrection {
  eventId: string;
  correctsEventId: string;
  installId: string;
  modelVersion: string;
  /** Label id: a launch taxon id, or proposed-<slug> for a new taxon. */
  label: string;
  embedding: Float32Array;
}

export interface QualityOptions {
  embeddingSize: number;
  /** Model versions whose embeddings are compatible (same backbone). */
  modelVersions: ReadonlySet<string>;
  minPerClass: number;
  /** If more than this share of corrections look poisoned, the whole batch is refused. */
  maxSuspiciousShare: number;
}

export const DEFAULT_QUALITY: Omit<QualityOptions, 'embeddingSize' | 'modelVersions'> = { minPerClass: 3, maxSuspiciousShare: 0.15 };

export interface QualityReport {
  input: number;
  kept: number;
  duplicates: number;
  badEmbedding: number;
  wrongModel: number;
  conflictsSettled: number;
  conflictsSetAside: number;
  suspicious: number;
  heldBackClasses: Record<string, number>;
  poisoned: boolean;
  warnings: string[];
}

export const embeddingHash = (e: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(e.buffer, e.byteOffset, e.byteLength))
    .digest('hex');

/**
 * How well the current model agrees with a label: the model's probability of
 * that label, or null when the model cannot name it (a new taxon).
 */
export type ModelAgreement = (c: TrainingCorrection) => number | null;

export interface Reference {
  label: string;
  embedding: Float32Array;
}

/** A plain loop: Array.prototype.some's callback per value was seconds at 100,000 x 1,280. */
function allFinite(e: Float32Array): boolean {
  for (let j = 0; j < e.length; j++) if (!Number.isFinite(e[j])) return false;
  return true;
}

export function checkCorrections(
  input: readonly TrainingCorrection[],
  opts: QualityOptions,
  agreement: ModelAgreement = () => null,
  /** Labelled reference embeddings (e.g. the base set) the neighbours may also come from. */
  references: readonly Reference[] = [],
): { kept: TrainingCorrection[]; report: QualityReport } {
  const report: QualityReport = {
    input: input.length,
    kept: 0,
    duplicates: 0,
    badEmbedding: 0,
    wrongModel: 0,
    conflictsSettled: 0,
    conflictsSetAside: 0,
    suspicious: 0,
    heldBackClasses: {},
    poisoned: false,
    warnings: [],
  };
  // 1. Broken or foreign embeddings.
  let rows = input.filter((c) => {
    if (!opts.modelVersions.has(c.modelVersion)) {
      report.wrongModel++;
      return false;
    }
    if (c.embedding.length !== opts.embeddingSize || !allFinite(c.embedding)) {
      report.badEmbedding++;
      return false;
    }
    return true;
  });
  // 2. Duplicates: the same event, or the same embedding with the same label.
  const seenEvents = new Set<string>();
  const seenEmb = new Set<string>();
  rows = rows.filter((c) => {
    const h = `${embeddingHash(c.embedding)}:${c.label}`;
    if (seenEvents.has(c.eventId) || seenEmb.has(h)) {
      report.duplicates++;
      return false;
    }
    seenEvents.add(c.eventId);
    seenEmb.add(h);
    return true;
  });
  // 3. Several corrections of one identification: majority label wins, a tie is set aside.
  const byIdent = new Map<string, TrainingCorrection[]>();
  for (const c of rows) byIdent.set(c.correctsEventId, [...(byIdent.get(c.correctsEventId) ?? []), c]);
  rows = [];
  for (const group of byIdent.values()) {
    if (group.length === 1) {
      rows.push(group[0]);
      continue;
    }
    const votes = new Map<string, number>();
    for (const c of group) votes.set(c.label, (votes.get(c.label) ?? 0) + 1);
    const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
    if (ranked.length === 1) {
      rows.push(group[0]);
      report.duplicates += group.length - 1;
      continue;
    }
    if (ranked[0][1] === ranked[1][1]) {
      report.conflictsSetAside += group.length;
      continue;
    }
    report.conflictsSettled += group.length;
    rows.push(group.find((c) => c.label === ranked[0][0])!);
  }
  // 4. Poisoning: a label the current model finds unlikely AND whose examples' centroid is not the nearest one
  // (leave-one-out, on mean-centred embeddings; references count towards the centroids).
  if (rows.length > 1) {
    const pool = [...rows.map((c) => ({ label: c.label, embedding: c.embedding })), ...references];
    const D = opts.embeddingSize;
    const mean = new Float64Array(D);
    for (const p of pool) for (let j = 0; j < D; j++) mean[j] += p.embedding[j] / pool.length;
    let mean2 = 0;
    for (let j = 0; j < D; j++) mean2 += mean[j] * mean[j];
    // A centred, unit-length vector v = (e - mean) / r is never formed (100,000 of them would not fit in memory
    // as doubles, and forming them was most of the time): r^2 = |e|^2 - 2 e.mean + |mean|^2 and
    // s.v = (s.e - s.mean) / r need only dot products with e.
    const radius = (e: Float32Array) => {
      let ee = 0,
        em = 0;
      for (let j = 0; j < D; j++) {
        const x = e[j];
        ee += x * x;
        em += x * mean[j];
      }
      return Math.sqrt(Math.max(0, ee - 2 * em + mean2)) || 1;
    };
    // One row of label sums (the sum of the label's centred unit vectors) per label, contiguous.
    const labelIndex = new Map<string, number>();
    for (const p of pool) if (!labelIndex.has(p.label)) labelIndex.set(p.label, labelIndex.size);
    const L = labelIndex.size;
    const sums = new Float64Array(L * D);
    const counts = new Int32Array(L);
    for (const p of pool) {
      const l = labelIndex.get(p.label)!;
      const inv = 1 / radius(p.embedding);
      const o = l * D;
      for (let j = 0; j < D; j++) sums[o + j] += (p.embedding[j] - mean[j]) * inv;
      counts[l]++;
    }
    const sumNorm2 = new Float64Array(L),
      sumDotMean = new Float64Array(L);
    for (let l = 0; l < L; l++)
      for (let j = 0; j < D; j++) {
        sumNorm2[l] += sums[l * D + j] * sums[l * D + j];
        sumDotMean[l] += sums[l * D + j] * mean[j];
      }
    const labels = [...labelIndex.keys()];
    const suspicious = new Set<number>();
    rows.forEach((c, i) => {
      const p = agreement(c);
      if (p !== null && p >= 0.05) return;
      const e = c.embedding;
      const inv = 1 / radius(e);
      const ownIndex = labelIndex.get(c.label)!;
      let best = -1,
        bestSim = -Infinity;
      // Labels in first-seen order, as before, so ties resolve the same way.
      for (let l = 0; l < L; l++) {
        const own = l === ownIndex;
        const n = own ? counts[l] - 1 : counts[l];
        if (n < 1) continue;
        const o = l * D;
        let se = 0;
        for (let j = 0; j < D; j++) se += sums[o + j] * e[j];
        const dot = (se - sumDotMean[l]) * inv;
        // Leave-one-out: the own centroid without this example (|v| = 1).
        const norm2 = own ? sumNorm2[l] - 2 * dot + 1 : sumNorm2[l];
        const sim = (own ? dot - 1 : dot) / Math.sqrt(Math.max(norm2, 1e-12));
        if (sim > bestSim) {
          bestSim = sim;
          best = l;
        }
      }
      if (labels[best] !== c.label) suspicious.add(i);
    });
    report.suspicious = suspicious.size;
    if (suspicious.size > opts.maxSuspiciousShare * rows.length) {
      report.poisoned = true;
      report.warnings.push(
        `${suspicious.size} of ${rows.length} corrections disagree with both the current model and the examples nearest to them (more than ${(opts.maxSuspiciousShare * 100).toFixed(0)}%): the batch looks poisoned and is refused`,
      );
    }
    rows = rows.filter((_, i) => !suspicious.has(i));
  }
  // 5. Classes with too few examples wait for more.
  const counts = new Map<string, number>();
  for (const c of rows) counts.set(c.label, (counts.get(c.label) ?? 0) + 1);
  for (const [label, n] of counts)
    if (n < opts.minPerClass) {
      report.heldBackClasses[label] = n;
      report.warnings.push(`class ${label} has ${n} correction(s), fewer than ${opts.minPerClass}: held back`);
    }
  rows = rows.filter((c) => !(c.label in report.heldBackClasses));
  report.kept = report.poisoned ? 0 : rows.length;
  return { kept: report.poisoned ? [] : rows, report };
}
