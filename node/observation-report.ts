/**
 * The figures `npm run eval -- --observation-size 1,2,3 [--mirror]` prints:
 * top-1 of k-photo observations (seeded same-class groupings, each fusion
 * rule), and the paired single-view against photo+mirror comparison.
 */
import { averageLogits, FUSION_RULES } from '../core/fusion.ts';
import { photosByClass, scoreObservations, type ObservationScore } from '../core/observation-eval.ts';
import { pairedCounts, pairedDifference, mcnemar, type PairedDifference } from '../core/intervals.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import type { Prediction } from '../core/postprocess.ts';
import type { ViewLogits } from './view-logits.ts';

type Interpret = (logits: Float32Array) => Prediction;
const isRight = (p: Prediction, label: string) => (label === OTHER_LABEL ? p.abstain : !p.abstain && p.top5[0]?.taxonId === label);

export interface ObservationRow extends ObservationScore {
  rule: string;
  /** The right taxon named first, whether or not the answer was "not one of our species" (how fusion moves the ranking alone). */
  top1_named: number;
}

export function observationTable(views: readonly ViewLogits[], sizes: readonly number[], interpret: Interpret, opts: { rounds: number; seed: number }): ObservationRow[] {
  // The same classes at every size (those with photos for the largest), so sizes compare like with like.
  const byClass = photosByClass(
    views.map((v) => v.label),
    Math.max(...sizes),
    (l) => l === OTHER_LABEL,
  );
  if (byClass.size === 0) throw new Error(`no launch class has ${Math.max(...sizes)} photos in this set: pick smaller observation sizes or another --images folder`);
  const correct = (fused: Float32Array, label: string) => isRight(interpret(fused), label);
  const named = (fused: Float32Array, label: string) => interpret(fused).top5[0]?.taxonId === label;
  const rows: ObservationRow[] = [];
  for (const size of sizes) {
    // One photo is the same under every rule.
    for (const rule of size === 1 ? [FUSION_RULES[0]] : FUSION_RULES) {
      const run = (judge: typeof correct) => scoreObservations(views, byClass, size, { rounds: opts.rounds, seed: opts.seed, rule, correct: judge });
      // The same seed draws the same groupings for both measures.
      rows.push({ rule: size === 1 ? 'single photo' : rule, ...run(correct), top1_named: run(named).top1 });
    }
  }
  return rows;
}

export interface MirrorReport {
  top1: PairedDifference & { mcnemar_p: number };
  other_accuracy: PairedDifference & { mcnemar_p: number };
  adopt: boolean;
}

/** Paired on the same photos: each photo alone against the mean of its and its mirror's logits. */
export function mirrorReport(views: readonly ViewLogits[], interpret: Interpret): MirrorReport {
  const compare = (subset: readonly ViewLogits[]) => {
    const single = subset.map((v) => isRight(interpret(v.logits), v.label));
    const both = subset.map((v) => isRight(interpret(averageLogits(v.logits, v.mirror!)), v.label));
    const t = pairedCounts(single, both);
    return { ...pairedDifference(t), mcnemar_p: mcnemar(t.onlyCurrent, t.onlyCandidate).p };
  };
  if (views.some((v) => !v.mirror)) throw new Error('mirror report needs the mirror views');
  const top1 = compare(views.filter((v) => v.label !== OTHER_LABEL));
  const other = compare(views.filter((v) => v.label === OTHER_LABEL));
  // Adopt only when top-1's gain excludes zero and "not one of ours" is not shown to get worse.
  return { top1, other_accuracy: other, adopt: top1.lo > 0 && !(other.hi < 0) };
}

const f3 = (x: number) => x.toFixed(3);

export function formatObservationTable(rows: readonly ObservationRow[], rounds: number): string {
  const lines = [
    `| photos | fusion | top-1 | 95% interval, class bootstrap | 95% Wilson, one grouping | right taxon first, abstentions aside | observations per grouping | classes |`,
    `|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.rule} | ${f3(r.top1)} | ${f3(r.lo)} – ${f3(r.hi)} | ${f3(r.wilson.lo)} – ${f3(r.wilson.hi)} | ${f3(r.top1_named)} | ${r.perRound} (x ${rounds} groupings) | ${r.classes} |`,
    ),
  ];
  return lines.join('\n');
}

export function formatMirror(m: MirrorReport): string {
  const row = (name: string, d: MirrorReport['top1']) =>
    `| ${name} | ${d.n} | ${f3(d.current)} | ${f3(d.candidate)} | ${d.difference >= 0 ? '+' : ''}${f3(d.difference)} (${f3(d.lo)} – ${f3(d.hi)}) | ${d.mcnemar_p.toPrecision(2)} |`;
  return [
    '| measure | photos | single view | photo + mirror | difference (95% paired interval) | McNemar p |',
    '|---|---|---|---|---|---|',
    row('top-1', m.top1),
    row('other_accuracy', m.other_accuracy),
    '',
    m.adopt ? "The mirror view's gain excludes zero: worth offering." : "The mirror view's gain does not exclude zero: keep the single view (half the compute).",
  ].join('\n');
}
