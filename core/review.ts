/**
 * Which user corrections may be accepted without a person: the rule that
 * keeps anonymous input from deciding what the model learns.
 *
 * A correction is evidence only when it is grounded (it cites a stored
 * identification of the same install and model version) and within its
 * install's daily cap. It votes toward automatic acceptance only when it
 * also names a known taxon (a typed name always waits for a reviewer: it
 * would be shown to every user) and its install is independent:
 * - its credential was at least a day old when the correction arrived, so a
 *   burst of fresh installs cannot vote;
 * - the install has a history of its own identifications;
 * - its credential is not revoked.
 * A pending voter is accepted when voters from at least `minNetworks`
 * different client networks (salted hashes of address prefixes) agree on
 * the same confusion, so many installs from one network count as one.
 */
import { correctionLabel, type CorrectionFact } from './telemetry-facts.ts';

export interface AutoAcceptRules {
  /** Distinct client networks whose installs must agree. */
  minNetworks: number;
  /** Age of the install's credential when the correction arrived. */
  minCredentialAgeMs: number;
  /** Identifications the install must have stored. */
  minIdentifications: number;
}

export const DEFAULT_AUTO_ACCEPT_RULES: AutoAcceptRules = {
  minNetworks: 3,
  minCredentialAgeMs: 24 * 3_600_000,
  minIdentifications: 3,
};

/** What the server knows about the install behind a correction. */
export interface InstallTrust {
  issuedAt: string;
  networkHash: string;
  identifications: number;
  revoked: boolean;
}

/**
 * What independent installs must agree on:
 * - a proposed name: the name, normalized ("Red fox" = "red  FOX"); such
 *   corrections never vote, but reviewers see how many installs gave it;
 * - a known taxonId: the same confusion, i.e. the model's top-1 for the
 *   corrected identification and the taxonId ("tiger-beetle -> ladybug").
 */
export function agreementKey(c: Pick<CorrectionFact, 'taxonId' | 'proposedName' | 'correctsEventId'>, predictedOf: (correctsEventId: string) => string | undefined): string {
  if (c.taxonId === null) return correctionLabel(c);
  return `${predictedOf(c.correctsEventId) ?? '?'} -> ${c.taxonId}`;
}

/** Counts for anything at all: grounded and within its install's cap. */
export const isEvidence = (c: Pick<CorrectionFact, 'grounding' | 'counted'>) => c.grounding === 'grounded' && c.counted;

/** Why a correction cannot vote, or null when it can. */
export function voteRefusal(c: CorrectionFact, trust: InstallTrust | undefined, rules: AutoAcceptRules = DEFAULT_AUTO_ACCEPT_RULES): string | null {
  if (c.verdict !== 'corrected') return 'a confirmation, not a correction';
  if (c.status === 'rejected') return 'rejected by a reviewer';
  if (c.grounding !== 'grounded') return 'does not cite a stored identification of its install';
  if (!c.counted) return "over its install's daily cap";
  if (c.taxonId === null) return 'a new name: only a reviewer can accept it';
  if (!trust) return 'from an install without a credential';
  if (trust.revoked) return 'from a revoked install';
  if (Date.parse(c.receivedAt) - Date.parse(trust.issuedAt) < rules.minCredentialAgeMs) return 'from an install whose credential was too new';
  if (trust.identifications < rules.minIdentifications) return 'from an install with too few identifications of its own';
  return null;
}

/**
 * Event ids of pending corrections to accept automatically: voters whose
 * agreement key has voters from at least `rules.minNetworks` networks.
 */
export function autoAcceptable(
  corrections: readonly CorrectionFact[],
  predictedOf: (correctsEventId: string) => string | undefined,
  trustOf: (installId: string) => InstallTrust | undefined,
  rules: AutoAcceptRules = DEFAULT_AUTO_ACCEPT_RULES,
): string[] {
  const networks = new Map<string, Set<string>>();
  const voters: Array<{ c: CorrectionFact; key: string }> = [];
  for (const c of corrections) {
    const trust = trustOf(c.installId.toLowerCase());
    if (voteRefusal(c, trust, rules) !== null) continue;
    const key = agreementKey(c, predictedOf);
    voters.push({ c, key });
    let s = networks.get(key);
    if (!s) networks.set(key, (s = new Set()));
    s.add(trust!.networkHash);
  }
  return voters.filter(({ c, key }) => c.status === 'pending' && (networks.get(key)?.size ?? 0) >= rules.minNetworks).map(({ c }) => c.eventId);
}
