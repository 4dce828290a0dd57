import { describe, expect, it } from 'vitest';
import { float16Bytes, fromFloat16Bits, toFloat16Bits } from './float16.ts';

describe('float16', () => {
  it('encodes the known bit patterns', () => {
    expect(toFloat16Bits(0)).toBe(0x0000);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(toFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -14)).toBe(0x0400);
    expect(toFloat16Bits(2 ** -26)).toBe(0x0000);
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: the even one (1) wins.
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // Subnormal ties: 1.5 * 2^-24 goes to 2 * 2^-24 (even).
    expect(toFloat16Bits(1.5 * 2 ** -24)).toBe(0x0002);
  });

  it('round-trips within half a float16 step on weights of a typical range', () => {
    for (let i = 0; i < 2000; i++) {
      const x = Math.sin(i * 12.9898) * 3;
      const back = fromFloat16Bits(toFloat16Bits(x));
      expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
    }
  });

  it('writes little-endian words', () => {
    expect(Array.from(float16Bytes([1, -2]))).toEqual([0x00, 0x3c, 0x00, 0xc0]);
  });
});
