/**
 * Weight per source, not per event: within a group (a version's day, an arm
 * of a rollout), an install's events weigh 1 each up to `cap` events and
 * share `cap` between them beyond it. A typical install (a few photos a day)
 * counts in full; one install that sends 10,000 events weighs like one busy
 * install, not like thousands of people.
 */

/** Events of one install per group that count in full. */
export const EVENTS_PER_INSTALL_CAP = 50;

/** A weight per item (same order): min(1, cap / events of its install in its group). */
export function installWeights<T>(items: readonly T[], installOf: (t: T) => string, groupOf: (t: T) => string = () => '', cap = EVENTS_PER_INSTALL_CAP): number[] {
  if (!(cap > 0)) throw new RangeError('the cap must be positive');
  const key = (t: T) => `${groupOf(t)}\u0000${installOf(t).toLowerCase()}`;
  const counts = new Map<string, number>();
  for (const t of items) counts.set(key(t), (counts.get(key(t)) ?? 0) + 1);
  return items.map((t) => Math.min(1, cap / counts.get(key(t))!));
}
