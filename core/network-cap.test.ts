import { describe, expect, it } from 'vitest';
import { capPerNetwork, type NetworkMember } from './network-cap.ts';

const m = (installId: string, network: string, issuedAt: string, failing = false): NetworkMember => ({ installId, network, issuedAt, failing });

describe('capPerNetwork', () => {
  it('keeps the oldest credentials of each network up to the cap, and one failing install per network', () => {
    const farm = Array.from({ length: 30 }, (_, i) => m(`f${String(i).padStart(2, '0')}`, 'farm', `2026-11-0${1 + (i % 9)}T00:00:00.000Z`, true));
    const honest = [m('a', 'n1', '2026-10-01T00:00:00.000Z', true), m('b', 'n2', '2026-10-02T00:00:00.000Z'), m('c', 'n3', '2026-10-03T00:00:00.000Z', true)];
    const { keep, failing } = capPerNetwork([...farm, ...honest], 3);
    expect([...keep].filter((id) => id.startsWith('f'))).toHaveLength(3);
    // The oldest three of the farm (issued on the 1st), in id order.
    expect([...keep].filter((id) => id.startsWith('f')).sort()).toEqual(['f00', 'f09', 'f18']);
    expect(['a', 'b', 'c'].every((id) => keep.has(id))).toBe(true);
    // 30 failing installs on one network are one failing source; the honest networks each count.
    expect([...failing].sort()).toEqual(['a', 'c', 'f00']);
  });

  it('refuses a cap below one', () => {
    expect(() => capPerNetwork([], 0)).toThrow(/at least one/);
  });
});
