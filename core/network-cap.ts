/**
 * Sources, not credentials: install credentials are cheap to collect ahead
 * of time from one network, so what the rollout guard hears per network is
 * capped. Within one network (a salted hash of the address prefix) only the
 * `maxPerNetwork` installs with the oldest credentials count, and at most
 * one of them counts as failing: "failures from 3 installs" then means
 * failures from 3 networks. Honest users behind one carrier NAT lose some
 * weight; a farm of credentials on one network cannot outvote a fleet.
 */

export interface NetworkMember {
  installId: string;
  /** Salted network hash; an install the server has no credential row for is its own network. */
  network: string;
  issuedAt: string;
  failing: boolean;
}

export const MAX_INSTALLS_PER_NETWORK = 3;

/** Which installs count (`keep`), and which of those may count their failures (`failing`). */
export function capPerNetwork(members: readonly NetworkMember[], maxPerNetwork = MAX_INSTALLS_PER_NETWORK): { keep: Set<string>; failing: Set<string> } {
  if (!(maxPerNetwork >= 1)) throw new RangeError('at least one install per network must count');
  const byNetwork = new Map<string, NetworkMember[]>();
  for (const m of members) byNetwork.set(m.network, [...(byNetwork.get(m.network) ?? []), m]);
  const keep = new Set<string>();
  const failing = new Set<string>();
  for (const list of byNetwork.values()) {
    const oldest = [...list].sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.installId.localeCompare(b.installId)).slice(0, maxPerNetwork);
    for (const m of oldest) keep.add(m.installId);
    const failed = oldest.find((m) => m.failing);
    if (failed) failing.add(failed.installId);
  }
  return { keep, failing };
}
