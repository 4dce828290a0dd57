import { describe, expect, it } from 'vitest';
import { decodeBase64 } from './base64.ts';

describe('decodeBase64', () => {
  it('decodes padded standard base64', () => {
    expect(decodeBase64('aGk=')).toEqual(Uint8Array.from([104, 105]));
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(Buffer.from(all).toString('base64'))).toEqual(all);
  });
  it('refuses missing padding, stray characters and URL-safe base64', () => {
    expect(decodeBase64('aGk')).toBeNull();
    expect(decodeBase64('a$k=')).toBeNull();
    expect(decodeBase64('aG k=')).toBeNull();
    expect(decodeBase64('-_8=')).toBeNull();
  });
});
