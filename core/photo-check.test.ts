import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFileSize, checkPhoto, decodedSize, decodeFailed, PHOTO_LIMITS, PhotoError, type PhotoErrorCode } from './photo-check.ts';

// ---- small byte builders (see image-probe.test.ts for the fuller set) ----
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
/** PNG signature + IHDR + IEND (CRCs left zero: the probe does not read them). */
const png = (width: number, height: number, { iend = true } = {}) =>
  Uint8Array.from([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...u32be(13),
    ...ascii('IHDR'),
    ...u32be(width),
    ...u32be(height),
    8,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...(iend ? [...u32be(0), ...ascii('IEND'), 0xae, 0x42, 0x60, 0x82] : []),
  ]);
const u16be = (n: number) => [(n >>> 8) & 255, n & 255];
/** SOI, SOF0 (3 components), SOS, a few entropy bytes, EOI. */
const jpeg = (width: number, height: number) =>
  Uint8Array.from([
    0xff,
    0xd8,
    0xff,
    0xc0,
    ...u16be(17),
    8,
    ...u16be(height),
    ...u16be(width),
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
    0xff,
    0xda,
    ...u16be(12),
    3,
    1,
    0,
    2,
    0x11,
    3,
    0x11,
    0,
    0x3f,
    0,
    0x12,
    0x34,
    0xff,
    0xd9,
  ]);
const ftyp = (brand: string) => Uint8Array.from([...u32be(24), ...ascii('ftyp'), ...ascii(brand), 0, 0, 0, 0, ...ascii('mif1'), ...ascii(brand)]);

/** Runs checkPhoto expecting a PhotoError with `code`; returns its message. */
function rejects(bytes: Uint8Array, code: PhotoErrorCode, name?: string): string {
  let error: unknown;
  try {
    checkPhoto(bytes, name);
  } catch (e) {
    error = e;
  }
  expect(error, `expected PhotoError ${code}`).toBeInstanceOf(PhotoError);
  const err = error as PhotoError;
  expect(err.code).toBe(code);
  expect(err.name).toBe('PhotoError');
  // written for a person: a full sentence, nothing leaked from the code
  expect(err.message).toMatch(/^\S.*\.$/s);
  expect(err.message).not.toMatch(/undefined|NaN|null|\[object/);
  return err.message;
}

const SHARED = path.resolve(process.env.WILDSIGHT_SHARED ?? new URL('../../shared', import.meta.url).pathname, 'data');
const CAT_PNG = path.join(SHARED, 'fixtures', 'chelsea_cat.png');
const VAL_JPEG = path.join(SHARED, 'imagenet-val-animals', 'ILSVRC2012_val_00000355.JPEG');

describe('checkPhoto', () => {
  it('limits are 64 px short side, 50 megapixels and 30 MB', () => {
    expect(PHOTO_LIMITS).toEqual({ minShortSide: 64, maxMegapixels: 50, maxBytes: 30 * 1024 * 1024 });
  });

  it('empty file', () => {
    expect(rejects(new Uint8Array(0), 'empty')).toBe('This file is empty (0 bytes). Pick the photo again.');
  });

  it('uses the file name given', () => {
    expect(rejects(new Uint8Array(0), 'empty', 'IMG_0042.jpg')).toMatch(/^IMG_0042\.jpg is empty/);
  });

  it('text is not an image', () => {
    const message = rejects(Uint8Array.from(ascii('shopping list: eggs, milk')), 'not-an-image');
    expect(message).toContain('not an image');
    expect(message).toContain('JPEG');
  });

  it('HEIC and AVIF are unsupported, with the format named', () => {
    expect(rejects(ftyp('heic'), 'unsupported-format')).toMatch(/^HEIC \(iPhone\) photos are not supported yet\./);
    expect(rejects(ftyp('avif'), 'unsupported-format')).toMatch(/^AVIF images are not supported yet\./);
    expect(rejects(Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]), 'unsupported-format')).toContain('TIFF');
  });

  it('a JPEG signature followed by garbage is corrupt', () => {
    const garbage = Uint8Array.from([0xff, 0xd8, 0xff, ...ascii('garbage garbage garbage')]);
    expect(rejects(garbage, 'corrupt', 'fox.jpg')).toBe('fox.jpg looks damaged: its JPEG header cannot be read.');
  });

  it('a PNG without IEND is truncated', () => {
    expect(rejects(png(640, 480, { iend: false }), 'truncated')).toContain('incomplete');
  });

  it('a 50x50 PNG is too small, and the message gives the pixels', () => {
    // short side 50 < 64
    const message = rejects(png(50, 50), 'too-small');
    expect(message).toBe('This file is 50 x 50 pixels; photos need at least 64 pixels on the short side to be identified.');
  });

  it('the short side decides "too small", whichever side it is', () => {
    expect(rejects(png(4000, 63), 'too-small')).toContain('4000 x 63 pixels');
    expect(rejects(png(63, 4000), 'too-small')).toContain('63 x 4000 pixels');
    // exactly 64 passes
    expect(checkPhoto(png(64, 64))).toEqual({ format: 'png', width: 64, height: 64, complete: true });
    expect(checkPhoto(png(64, 4000)).height).toBe(4000);
  });

  it('a 10000x6000 PNG (60 megapixels) has too many pixels', () => {
    // 10000 * 6000 = 60,000,000 pixels = 60 MP > 50 MP
    const message = rejects(png(10000, 6000), 'too-many-pixels');
    expect(message).toBe('This file is 60 megapixels; photos up to 50 megapixels can be identified.');
  });

  it('a JPEG is judged by the pixels it will be decoded at: 108 and 200 MP phone photos pass (1/8 scale)', () => {
    expect(decodedSize({ format: 'jpeg', width: 12000, height: 9000 })).toEqual({ width: 1500, height: 1125, scale: 1 / 8 });
    expect(checkPhoto(jpeg(12000, 9000))).toMatchObject({ format: 'jpeg', width: 12000, height: 9000 });
    expect(checkPhoto(jpeg(16320, 12240))).toMatchObject({ width: 16320, height: 12240 });
    // The same pixel count as a PNG is decoded whole, so it is refused.
    expect(rejects(png(12000, 9000), 'too-many-pixels')).toBe('This file is 108 megapixels; photos up to 50 megapixels can be identified.');
  });

  it('a 30000x30000 PNG is refused: only a JPEG decodes small', () => {
    expect(rejects(png(30000, 30000), 'too-many-pixels', 'map.png')).toBe('map.png is 900 megapixels; photos up to 50 megapixels can be identified.');
  });

  it('a JPEG still too big at 1/8 scale is refused, saying so', () => {
    // 65000 x 65000 at 1/8 is 8125 x 8125 = 66 MP as decoded.
    expect(rejects(jpeg(65000, 65000), 'too-many-pixels')).toBe('This file is 4225 megapixels, 66 even when decoded at 1/8 scale; photos up to 50 megapixels as decoded can be identified.');
  });

  it('a JPEG panorama too narrow to decode small is judged whole', () => {
    // Short side 1000 < 2 x 512: decoded at full size, 60 MP.
    expect(decodedSize({ format: 'jpeg', width: 60000, height: 1000 }).scale).toBe(1);
    expect(rejects(jpeg(60000, 1000), 'too-many-pixels')).toContain('60 megapixels; photos up to 50');
    // A bigger decode target (a model with a larger input) leaves less room to shrink.
    expect(decodedSize({ format: 'jpeg', width: 12000, height: 9000 }, 2000).scale).toBe(1 / 4);
  });

  it('exactly 50 megapixels is allowed', () => {
    // 10000 * 5000 = 50,000,000 = the limit, not above it
    expect(checkPhoto(png(10000, 5000))).toMatchObject({ width: 10000, height: 5000 });
  });

  it('a file over 30 MB is too large, before anything else is looked at', () => {
    const big = new Uint8Array(31 * 1024 * 1024);
    big.set(png(100, 100)); // a valid header does not save it
    // 31 MiB = 32505856 bytes -> "31.0 MB"
    expect(rejects(big, 'too-large-file', 'panorama.png')).toBe('panorama.png is 31.0 MB; photos up to 30 MB can be identified.');
  });

  it('exactly 30 MB is not "too large" (it goes on to the format check)', () => {
    const limit = new Uint8Array(30 * 1024 * 1024); // all zeros: no known signature
    rejects(limit, 'not-an-image');
  });

  it('returns the probe of an acceptable photo', () => {
    expect(checkPhoto(png(451, 300))).toEqual({ format: 'png', width: 451, height: 300, complete: true });
  });

  it.skipIf(!existsSync(CAT_PNG))('real PNG: passes whole, truncated when cut in half', () => {
    const cat = new Uint8Array(readFileSync(CAT_PNG));
    expect(checkPhoto(cat, 'chelsea_cat.png')).toEqual({ format: 'png', width: 451, height: 300, complete: true });
    expect(rejects(cat.slice(0, cat.length >> 1), 'truncated', 'chelsea_cat.png')).toBe('chelsea_cat.png is incomplete (it was cut off while saving or copying). Pick the original photo.');
  });

  it.skipIf(!existsSync(VAL_JPEG))('real JPEG: passes whole, truncated when cut in half', () => {
    const photo = new Uint8Array(readFileSync(VAL_JPEG));
    expect(checkPhoto(photo)).toEqual({ format: 'jpeg', width: 227, height: 227, complete: true });
    rejects(photo.slice(0, photo.length >> 1), 'truncated');
    // cut inside the headers, before the frame size: the header cannot be read
    rejects(photo.slice(0, 10), 'corrupt');
  });
});

describe('decodeFailed', () => {
  it('is a PhotoError with code decode-failed and a readable message', () => {
    const err = decodeFailed('owl.webp');
    expect(err).toBeInstanceOf(PhotoError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('decode-failed');
    expect(err.message).toBe('owl.webp could not be decoded; it may be damaged. Try another photo.');
    expect(decodeFailed().message).toMatch(/^This file could not be decoded/);
  });
});

describe('checkFileSize', () => {
  it('refuses a size over 30 MB without the bytes, and lets 30 MB through', () => {
    expect(() => checkFileSize(31 * 1024 * 1024, 'big.jpg')).toThrow(/big\.jpg is 31\.0 MB; photos up to 30 MB/);
    expect(() => checkFileSize(30 * 1024 * 1024, 'ok.jpg')).not.toThrow();
  });
});
