/**
 * The per-day data-quality report: duplicates, refusals by reason, error
 * rate, conflicting labels and proposed names.
 */
import { correctionLabel, type CorrectionFact, type QualityDay } from './telemetry-facts.ts';

/**
 * The per-day data-quality report. `counts` are the persisted per-day
 * counters (kind "duplicate" or "rejected:<reason>"); `stored` events per
 * day; corrections give conflicts (bucketed by the day of the latest
 * correction of the group) and proposed names (counted from `corrections`,
 * or given per day: then `corrections` need only hold the groups of two or more).
 */
export function qualityReport(
  counts: ReadonlyArray<{ day: string; kind: string; count: number }>,
  stored: ReadonlyArray<{ day: string; count: number }>,
  corrections: readonly CorrectionFact[],
  proposedPerDay?: ReadonlyArray<{ day: string; count: number }>,
): QualityDay[] {
  const days = new Map<string, QualityDay>();
  const at = (day: string) => {
    let d = days.get(day);
    if (!d) days.set(day, (d = { day, duplicates: 0, rejected: {}, rejectedTotal: 0, stored: 0, errorRate: 0, conflictingLabels: 0, proposedNames: 0 }));
    return d;
  };
  for (const c of counts) {
    const d = at(c.day);
    if (c.kind === 'duplicate') d.duplicates += c.count;
    else if (c.kind.startsWith('rejected:')) {
      const reason = c.kind.slice('rejected:'.length);
      d.rejected[reason] = (d.rejected[reason] ?? 0) + c.count;
      d.rejectedTotal += c.count;
    }
  }
  for (const s of stored) at(s.day).stored += s.count;
  for (const p of proposedPerDay ?? []) at(p.day).proposedNames += p.count;
  const groups = new Map<string, CorrectionFact[]>();
  for (const c of corrections) {
    if (c.proposedName !== null && !proposedPerDay) at(c.hour.slice(0, 10)).proposedNames++;
    const list = groups.get(c.correctsEventId) ?? [];
    list.push(c);
    groups.set(c.correctsEventId, list);
  }
  for (const list of groups.values()) {
    if (new Set(list.map(correctionLabel)).size < 2) continue;
    const last = list
      .map((c) => c.hour)
      .sort()
      .at(-1)!;
    at(last.slice(0, 10)).conflictingLabels++;
  }
  for (const d of days.values()) {
    const seen = d.stored + d.rejectedTotal + d.duplicates;
    d.errorRate = seen ? d.rejectedTotal / seen : 0;
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
