import { describe, expect, it } from 'vitest';
import { agreementKey, autoAcceptable, voteRefusal, DEFAULT_AUTO_ACCEPT_RULES, type InstallTrust } from './review.ts';
import { normalizeProposedName, type CorrectionFact } from './telemetry-facts.ts';

let n = 0;
const corr = (o: Partial<CorrectionFact> = {}): CorrectionFact => ({
  eventId: `c${n++}`,
  correctsEventId: 'x1',
  installId: 'A',
  modelVersion: '1.0.0',
  hour: '2026-11-03T10:00:00.000Z',
  verdict: 'corrected',
  taxonId: 'ladybug',
  proposedName: null,
  status: 'pending',
  receivedAt: '2026-11-03T10:30:00.000Z',
  grounding: 'grounded',
  counted: true,
  ...o,
});
const old = '2026-11-01T00:00:00.000Z';
const trusted = (network: string, o: Partial<InstallTrust> = {}): InstallTrust => ({ issuedAt: old, networkHash: network, identifications: 10, revoked: false, ...o });

describe('automatic acceptance needs independent installs', () => {
  const predicted = (id: string) => (({ x1: 'tiger-beetle', x2: 'tiger-beetle', x3: 'jay' }) as Record<string, string>)[id];

  it('accepts a confusion reported by installs from three networks, and not from two', () => {
    const trust: Record<string, InstallTrust> = { a: trusted('n1'), b: trusted('n2'), c: trusted('n3'), d: trusted('n2') };
    const two = [corr({ installId: 'A' }), corr({ installId: 'B', correctsEventId: 'x2' }), corr({ installId: 'D', correctsEventId: 'x2' })];
    expect(autoAcceptable(two, predicted, (id) => trust[id])).toEqual([]);
    const three = [...two, corr({ installId: 'C', correctsEventId: 'x2' })];
    expect(autoAcceptable(three, predicted, (id) => trust[id]).sort()).toEqual(three.map((c) => c.eventId).sort());
    expect(agreementKey(three[0], predicted)).toBe('tiger-beetle -> ladybug');
    // Another confusion toward the same taxon does not add up with this one.
    expect(agreementKey(corr({ correctsEventId: 'x3' }), predicted)).toBe('jay -> ladybug');
  });

  it('never accepts a typed name, whatever the number of installs', () => {
    const trust = (id: string) => trusted(`net-${id}`);
    const names = Array.from({ length: 50 }, (_, i) => corr({ installId: `i${i}`, taxonId: null, proposedName: 'Definitely Not A Hoax Bird' }));
    expect(autoAcceptable(names, predicted, trust)).toEqual([]);
    expect(voteRefusal(names[0], trust('i0'))).toMatch(/reviewer/);
    expect(normalizeProposedName('Definitely  Not a HOAX bird')).toBe('proposed-definitely-not-a-hoax-bird');
  });

  it('does not let fresh, history-less, revoked, ungrounded or over-cap installs vote', () => {
    const cases: Array<[Partial<CorrectionFact>, Partial<InstallTrust>, RegExp]> = [
      [{}, { issuedAt: '2026-11-03T00:00:00.000Z' }, /too new/],
      [{}, { identifications: 2 }, /too few identifications/],
      [{}, { revoked: true }, /revoked/],
      [{ grounding: 'waiting' }, {}, /stored identification/],
      [{ grounding: 'unverified' }, {}, /stored identification/],
      [{ counted: false }, {}, /cap/],
      [{ verdict: 'confirmed' }, {}, /confirmation/],
      [{ status: 'rejected' }, {}, /rejected/],
    ];
    for (const [c, t, why] of cases) {
      const bad = corr({ installId: 'Z', ...c });
      expect(voteRefusal(bad, trusted('nz', t)), JSON.stringify(c) + JSON.stringify(t)).toMatch(why);
      // Two good voters plus this one from a third network: still only two networks, so nothing passes.
      const all = [corr({ installId: 'A' }), corr({ installId: 'B' }), bad];
      const trust: Record<string, InstallTrust> = { a: trusted('n1'), b: trusted('n2'), z: trusted('nz', t) };
      expect(autoAcceptable(all, predicted, (id) => trust[id])).toEqual([]);
    }
    expect(voteRefusal(corr(), undefined)).toMatch(/without a credential/);
    expect(voteRefusal(corr(), trusted('n1'))).toBeNull();
  });

  it("checks the credential age when the correction arrived, against the rule's day", () => {
    const justUnder = new Date(Date.parse('2026-11-03T10:30:00.000Z') - DEFAULT_AUTO_ACCEPT_RULES.minCredentialAgeMs + 1000).toISOString();
    const justOver = new Date(Date.parse('2026-11-03T10:30:00.000Z') - DEFAULT_AUTO_ACCEPT_RULES.minCredentialAgeMs).toISOString();
    expect(voteRefusal(corr(), trusted('n', { issuedAt: justUnder }))).toMatch(/too new/);
    expect(voteRefusal(corr(), trusted('n', { issuedAt: justOver }))).toBeNull();
  });

  it('leaves accepted and rejected corrections as they are, though accepted ones still vote', () => {
    const trust: Record<string, InstallTrust> = { a: trusted('n1'), b: trusted('n2'), c: trusted('n3') };
    const cs = [corr({ installId: 'A', status: 'accepted' }), corr({ installId: 'B', status: 'accepted' }), corr({ installId: 'C' })];
    expect(autoAcceptable(cs, predicted, (id) => trust[id])).toEqual([cs[2].eventId]);
  });
});
