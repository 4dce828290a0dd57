/**
 * Stratified train/validation split grouped by install: every example of one
 * install lands on the same side, and each class gets roughly the asked share
 * of groups in validation (at least one group when it has `minGroupsForValidation`
 * or more; a class with fewer groups stays wholly in training).
 */
import { seededRandom } from '../core/random.ts';

export interface Groupable {
  group: string;
  label: string;
}

export function groupedSplit<T extends Groupable>(items: readonly T[], validationShare: number, seed = 1, minGroupsForValidation = 2): { train: T[]; validation: T[] } {
  const rand = seededRandom(seed);
  // A group's class for stratification: its most common label.
  const groups = new Map<string, T[]>();
  for (const it of items) groups.set(it.group, [...(groups.get(it.group) ?? []), it]);
  const byClass = new Map<string, string[]>();
  for (const [g, members] of [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const votes = new Map<string, number>();
    for (const m of members) votes.set(m.label, (votes.get(m.label) ?? 0) + 1);
    const label = [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
    byClass.set(label, [...(byClass.get(label) ?? []), g]);
  }
  const valGroups = new Set<string>();
  for (const [, gs] of [...byClass.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const shuffled = gs.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const n = gs.length < Math.max(2, minGroupsForValidation) ? 0 : Math.max(1, Math.round(gs.length * validationShare));
    for (const g of shuffled.slice(0, Math.min(n, gs.length - 1))) valGroups.add(g);
  }
  const train: T[] = [],
    validation: T[] = [];
  for (const it of items) (valGroups.has(it.group) ? validation : train).push(it);
  return { train, validation };
}
