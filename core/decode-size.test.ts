import { describe, expect, it } from 'vitest';
import { jpegDecodeSize } from './decode-size.ts';

describe('jpegDecodeSize', () => {
  it('decodes a 12 MP photo at 1/4 for a 512-pixel short side', () => {
    expect(jpegDecodeSize(4000, 3000, 512)).toEqual({ width: 1000, height: 750, scale: 1 / 4 });
  });

  it("decodes a 12 MP photo at 1/8 for the model's 256-pixel resize target", () => {
    expect(jpegDecodeSize(4000, 3000, 256)).toEqual({ width: 500, height: 375, scale: 1 / 8 });
  });

  it('uses 1/8 when that still leaves enough pixels', () => {
    expect(jpegDecodeSize(8000, 6000, 512)).toEqual({ width: 1000, height: 750, scale: 1 / 8 });
  });

  it('rounds scaled sizes up as libjpeg does', () => {
    expect(jpegDecodeSize(4001, 2049, 512)).toEqual({ width: 1001, height: 513, scale: 1 / 4 });
    expect(jpegDecodeSize(4094, 2047, 512)).toEqual({ width: 1024, height: 512, scale: 1 / 4 });
  });

  it('works for portrait photos on their short side', () => {
    expect(jpegDecodeSize(3000, 4000, 512)).toEqual({ width: 750, height: 1000, scale: 1 / 4 });
  });

  it('keeps photos that are not twice the needed size at full size', () => {
    expect(jpegDecodeSize(1000, 750, 512)).toBeNull();
    expect(jpegDecodeSize(500, 375, 512)).toBeNull();
  });

  it('scales every photo at least twice the needed short side, never below it', () => {
    for (const [w, h] of [
      [1024, 1024],
      [2047, 1536],
      [6000, 1100],
      [1100, 9000],
    ]) {
      const s = jpegDecodeSize(w, h, 512);
      expect(s, `${w}x${h}`).not.toBeNull();
      expect(Math.min(s!.width, s!.height)).toBeGreaterThanOrEqual(512);
    }
  });

  it('refuses nonsense sizes', () => {
    expect(() => jpegDecodeSize(0, 10, 512)).toThrow();
  });
});
