/**
 * New taxa are judged on corrections from installs that did not train them.
 * For each new taxon its installs are ranked by a seeded hash and the first
 * heldOutInstallCount() of them are held out; a held-out install is held out
 * entirely (none of its corrections train anything), so the model never saw
 * that person's camera, habits or photos. One correction per held-out install
 * is scored (the first by event id): several photos from one install are not
 * independent, and the Wilson interval assumes they are.
 *
 * A taxon with too few installs to hold any out is not trained at all: its
 * row could not enter the version anyway (it waits as `collecting`).
 */
import { createHash } from 'node:crypto';
import { heldOutInstallCount, type NewTaxonRules } from '../core/retrain-gate.ts';

export interface InstallLabelled {
  eventId: string;
  installId: string;
  label: string;
}

export interface NewTaxaSplit<T extends InstallLabelled> {
  /** Corrections that may train (launch labels and judged new taxa, from installs not held out). */
  train: T[];
  /** Per judged new taxon: the scored held-out corrections, one per held-out install. */
  heldOut: Map<string, T[]>;
  /** Per new taxon: distinct installs and corrections. */
  counts: Map<string, { installs: number; corrections: number }>;
  /** New taxa with too few installs to be judged: not trained. */
  unjudged: string[];
  heldOutInstalls: Set<string>;
}

export function splitNewTaxaByInstall<T extends InstallLabelled>(corrections: readonly T[], newLabels: readonly string[], rules: NewTaxonRules, seed = 1): NewTaxaSplit<T> {
  const isNew = new Set(newLabels);
  const heldOutInstalls = new Set<string>();
  const counts = new Map<string, { installs: number; corrections: number }>();
  const unjudged: string[] = [];
  const chosen = new Map<string, string[]>();
  // Corrections by label and by (install, label), indexed once: 100,000 corrections from 20,000 installs made
  // the per-install scans below quadratic (about 40 s).
  const byLabel = new Map<string, T[]>();
  const byInstallLabel = new Map<string, T[]>();
  for (const c of corrections) {
    if (!isNew.has(c.label)) continue;
    (byLabel.get(c.label) ?? byLabel.set(c.label, []).get(c.label)!).push(c);
    const key = `${c.installId}\u0000${c.label}`;
    (byInstallLabel.get(key) ?? byInstallLabel.set(key, []).get(key)!).push(c);
  }
  for (const label of [...newLabels].sort()) {
    const mine = byLabel.get(label) ?? [];
    const installs = [...new Set(mine.map((c) => c.installId))].sort();
    counts.set(label, { installs: installs.length, corrections: mine.length });
    const k = heldOutInstallCount(installs.length, rules);
    if (!k) {
      unjudged.push(label);
      continue;
    }
    // Ranked by a hash of (seed, taxon, install), not shuffled: as installs arrive run after run, the ones
    // held out keep their places, so each run adds evidence instead of taking a fresh look.
    const rank = new Map(installs.map((id) => [id, createHash('sha256').update(`${seed}|${label}|${id}`).digest('hex')]));
    installs.sort((a, b) => rank.get(a)!.localeCompare(rank.get(b)!));
    // Installs already held out for another taxon come first: they are lost to training anyway.
    installs.sort((a, b) => Number(heldOutInstalls.has(b)) - Number(heldOutInstalls.has(a)));
    chosen.set(label, installs.slice(0, k));
    for (const g of installs.slice(0, k)) heldOutInstalls.add(g);
  }
  const heldOut = new Map<string, T[]>();
  for (const [label, installs] of chosen) {
    heldOut.set(
      label,
      installs.map(
        (g) =>
          byInstallLabel
            .get(`${g}\u0000${label}`)!
            .slice()
            .sort((a, b) => (a.eventId < b.eventId ? -1 : 1))[0],
      ),
    );
  }
  const notTrained = new Set(unjudged);
  const train = corrections.filter((c) => !heldOutInstalls.has(c.installId) && !notTrained.has(c.label));
  // An install held out for one taxon can be the only source of another taxon's training rows; a taxon left
  // with fewer training installs than the rule asks is not judged either.
  const trainInstallsOf = new Map<string, Set<string>>();
  for (const c of train) if (chosen.has(c.label)) (trainInstallsOf.get(c.label) ?? trainInstallsOf.set(c.label, new Set()).get(c.label)!).add(c.installId);
  for (const label of [...chosen.keys()]) {
    const trainInstalls = trainInstallsOf.get(label)?.size ?? 0;
    if (trainInstalls < rules.minTrainInstalls) {
      chosen.delete(label);
      heldOut.delete(label);
      unjudged.push(label);
      notTrained.add(label);
    }
  }
  return { train: train.filter((c) => !notTrained.has(c.label)), heldOut, counts, unjudged: unjudged.sort(), heldOutInstalls };
}
