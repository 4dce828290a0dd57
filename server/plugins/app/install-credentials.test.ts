import { describe, expect, it } from 'vitest';
import { addressPrefix, rateLimitKey } from './install-credentials.ts';

describe('client networks and rate-limit keys', () => {
  it('reduces IPv4 to its /24 and IPv6 to its /48 for network hashes', () => {
    expect(addressPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(addressPrefix('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(addressPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(addressPrefix('2001:0db8:0000:0012:0000:0000:0000:0001')).toBe('2001:db8:0::/48');
  });
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(rateLimitKey('203.0.113.77')).toBe('203.0.113.77');
    expect(rateLimitKey('::ffff:203.0.113.77')).toBe('203.0.113.77');
    expect(rateLimitKey('2001:db8:abcd:12::1')).toBe(rateLimitKey('2001:db8:abcd:12:ffff:1:2:3'));
    expect(rateLimitKey('2001:db8:abcd:12::1')).not.toBe(rateLimitKey('2001:db8:abcd:13::1'));
  });
});
