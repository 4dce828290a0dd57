import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeImage, type ProbeResult } from './image-probe.ts';

// ---- byte builders (every header written out by hand from the format specs) ----

const bytes = (...parts: Array<number[] | string | Uint8Array>): Uint8Array => {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const ch of p) out.push(ch.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
};
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u32le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const u16be = (n: number) => [(n >> 8) & 255, n & 255];
const u16le = (n: number) => [n & 255, (n >> 8) & 255];

/** CRC-32 as PNG chunks use it, so the test PNGs are valid files, not just headers. */
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
const pngChunk = (type: string, data: number[]) => {
  const typeAndData = bytes(type, data);
  return bytes(u32be(data.length), typeAndData, u32be(crc32(typeAndData)));
};
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Signature, IHDR (8-bit RGB) and IEND: 8 + 25 + 12 = 45 bytes. */
const png = (width: number, height: number, { iend = true } = {}) => bytes(PNG_SIGNATURE, pngChunk('IHDR', [...u32be(width), ...u32be(height), 8, 2, 0, 0, 0]), iend ? pngChunk('IEND', []) : []);

/** SOI, APP0 JFIF, a baseline/progressive SOF, DHT, SOS, a few entropy bytes, EOI. */
const jpeg = (width: number, height: number, { sof = 0xc0, eoi = true } = {}) =>
  bytes(
    [0xff, 0xd8],
    [0xff, 0xe0, ...u16be(16)],
    'JFIF',
    [0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, sof, ...u16be(17), 8, ...u16be(height), ...u16be(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    // DHT after the SOF: its payload would read as 0x1234 x 0x5678 if DHT (C4) were mistaken for a SOF
    [0xff, 0xc4, ...u16be(8), 0, 0x12, 0x34, 0x56, 0x78, 0],
    [0xff, 0xda, ...u16be(12), 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0],
    [0x12, 0x34, 0xff, 0x00, 0x56], // entropy-coded data with a stuffed FF00
    eoi ? [0xff, 0xd9] : [],
  );

/** RIFF container; declared size = real size unless told otherwise. */
const riff = (body: Uint8Array, declared = body.length + 4) => bytes('RIFF', u32le(declared), 'WEBP', body);

const gif = (width: number, height: number, { trailer = true } = {}) =>
  bytes('GIF89a', u16le(width), u16le(height), [0, 0, 0], [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0], trailer ? [0x3b] : []);

/** 54-byte BITMAPFILEHEADER + BITMAPINFOHEADER followed by `pixels` bytes. */
const bmp = (width: number, height: number, { pixels = 16, declared }: { pixels?: number; declared?: number } = {}) =>
  bytes('BM', u32le(declared ?? 54 + pixels), [0, 0, 0, 0], u32le(54), u32le(40), u32le(width), u32le(height), u16le(1), u16le(24), new Array(24).fill(0), new Array(pixels).fill(0));

const expectOk = (r: ProbeResult) => {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.probe;
};

const SHARED = path.resolve(process.env.WILDSIGHT_SHARED ?? new URL('../../shared', import.meta.url).pathname, 'data');
const CAT_PNG = path.join(SHARED, 'fixtures', 'chelsea_cat.png');
const VAL_JPEG = path.join(SHARED, 'imagenet-val-animals', 'ILSVRC2012_val_00000355.JPEG');
const WEBP_VP8 = path.join(SHARED, 'gcompris-animals', 'farm_animals-cat.webp');
const WEBP_VP8X = path.join(SHARED, 'gcompris-animals', 'farm_animals-chicken.webp');

describe('probeImage: what is not a usable image', () => {
  it('reports empty input', () => {
    expect(probeImage(new Uint8Array(0))).toEqual({ ok: false, reason: 'empty' });
  });

  it('reports text and random bytes as not an image', () => {
    expect(probeImage(bytes('hello, this is a note about a fox\n'))).toEqual({ ok: false, reason: 'not-an-image' });
    expect(probeImage(bytes('{"version": 1}'))).toEqual({ ok: false, reason: 'not-an-image' });
    expect(probeImage(Uint8Array.from([0x13, 0x37, 0xca, 0xfe, 0xba, 0xbe, 0, 1, 2, 3, 4, 5, 6, 7, 8]))).toEqual({ ok: false, reason: 'not-an-image' });
    expect(probeImage(Uint8Array.from([0xff]))).toEqual({ ok: false, reason: 'not-an-image' });
  });

  it('recognizes HEIC and AVIF by their ftyp brand', () => {
    const ftyp = (brand: string) => bytes(u32be(24), 'ftyp', brand, u32be(0), 'mif1', brand);
    expect(probeImage(ftyp('heic'))).toEqual({ ok: false, reason: 'unsupported', format: 'heic' });
    expect(probeImage(ftyp('heix'))).toEqual({ ok: false, reason: 'unsupported', format: 'heic' });
    expect(probeImage(ftyp('mif1'))).toEqual({ ok: false, reason: 'unsupported', format: 'heic' });
    expect(probeImage(ftyp('avif'))).toEqual({ ok: false, reason: 'unsupported', format: 'avif' });
    expect(probeImage(ftyp('avis'))).toEqual({ ok: false, reason: 'unsupported', format: 'avif' });
    // an MP4 video has an ftyp box too, but it is not an image we know
    expect(probeImage(ftyp('isom'))).toEqual({ ok: false, reason: 'not-an-image' });
  });

  it('recognizes TIFF (both byte orders), ICO and SVG as unsupported', () => {
    expect(probeImage(bytes('II', [0x2a, 0], u32le(8)))).toEqual({ ok: false, reason: 'unsupported', format: 'tiff' });
    expect(probeImage(bytes('MM', [0, 0x2a], u32be(8)))).toEqual({ ok: false, reason: 'unsupported', format: 'tiff' });
    expect(probeImage(bytes([0, 0, 1, 0, 1, 0, 16, 16]))).toEqual({ ok: false, reason: 'unsupported', format: 'ico' });
    expect(probeImage(bytes('  <svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toEqual({ ok: false, reason: 'unsupported', format: 'svg' });
    expect(probeImage(bytes('<?xml version="1.0"?>\n<SVG width="10"/>'))).toEqual({ ok: false, reason: 'unsupported', format: 'svg' });
    // XML that is not SVG is not an image
    expect(probeImage(bytes('<?xml version="1.0"?>\n<gpx/>'))).toEqual({ ok: false, reason: 'not-an-image' });
  });

  it('reports a JPEG signature followed by garbage as a corrupt JPEG', () => {
    expect(probeImage(bytes([0xff, 0xd8, 0xff], 'this is not really a jpeg at all'))).toEqual({ ok: false, reason: 'corrupt', format: 'jpeg' });
    expect(probeImage(bytes([0xff, 0xd8, 0xff]))).toEqual({ ok: false, reason: 'corrupt', format: 'jpeg' });
    expect(probeImage(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0]))).toEqual({ ok: false, reason: 'corrupt', format: 'jpeg' });
  });

  it('reports a JPEG with no frame header before the scan as corrupt', () => {
    const noSof = bytes([0xff, 0xd8], [0xff, 0xe0, ...u16be(4), 0, 0], [0xff, 0xda, ...u16be(4), 0, 0], [1, 2, 3], [0xff, 0xd9]);
    expect(probeImage(noSof)).toEqual({ ok: false, reason: 'corrupt', format: 'jpeg' });
  });

  it('reports a JPEG whose segments run into a non-marker byte as corrupt', () => {
    expect(probeImage(bytes([0xff, 0xd8], [0xff, 0xe0, ...u16be(4), 0, 0], [0x00, 0xc0, 0, 17, 8]))).toEqual({ ok: false, reason: 'corrupt', format: 'jpeg' });
  });

  it('reports PNGs whose IHDR is missing, cut, or zero-sized as corrupt', () => {
    expect(probeImage(bytes(PNG_SIGNATURE))).toEqual({ ok: false, reason: 'corrupt', format: 'png' });
    expect(probeImage(png(50, 50).subarray(0, 20))).toEqual({ ok: false, reason: 'corrupt', format: 'png' });
    expect(probeImage(bytes(PNG_SIGNATURE, pngChunk('tEXt', [...u32be(50), ...u32be(50), 0, 0, 0, 0, 0])))).toEqual({ ok: false, reason: 'corrupt', format: 'png' });
    expect(probeImage(png(0, 50))).toEqual({ ok: false, reason: 'corrupt', format: 'png' });
  });

  it('reports a WebP with an unknown first chunk or a short header as corrupt', () => {
    expect(probeImage(riff(bytes('ALPH', u32le(10), new Array(10).fill(0))))).toEqual({ ok: false, reason: 'corrupt', format: 'webp' });
    expect(probeImage(riff(bytes('VP8X', u32le(10), [0, 0, 0])))).toEqual({ ok: false, reason: 'corrupt', format: 'webp' });
  });

  it('reports short GIF and BMP headers as corrupt', () => {
    expect(probeImage(bytes('GIF89a', [1, 0]))).toEqual({ ok: false, reason: 'corrupt', format: 'gif' });
    expect(probeImage(gif(0, 10))).toEqual({ ok: false, reason: 'corrupt', format: 'gif' });
    expect(probeImage(bmp(100, 100).subarray(0, 20))).toEqual({ ok: false, reason: 'corrupt', format: 'bmp' });
    expect(probeImage(bmp(0, 100))).toEqual({ ok: false, reason: 'corrupt', format: 'bmp' });
  });
});

describe('probeImage: dimensions and completeness', () => {
  it('PNG: width and height from IHDR, complete when it ends with IEND', () => {
    const whole = png(50, 50);
    expect(whole.length).toBe(45);
    expect(expectOk(probeImage(whole))).toEqual({ format: 'png', width: 50, height: 50, complete: true });
    expect(expectOk(probeImage(png(10000, 6000)))).toEqual({ format: 'png', width: 10000, height: 6000, complete: true });
    expect(expectOk(probeImage(png(640, 480, { iend: false })))).toEqual({ format: 'png', width: 640, height: 480, complete: false });
  });

  it('PNG: reads 32-bit sizes above 2^31 as unsigned', () => {
    expect(expectOk(probeImage(png(0x80000001, 1))).width).toBe(2147483649);
  });

  it('JPEG: size from SOF0 and SOF2 (progressive), not from DHT; complete with EOI', () => {
    expect(expectOk(probeImage(jpeg(640, 480)))).toEqual({ format: 'jpeg', width: 640, height: 480, complete: true });
    expect(expectOk(probeImage(jpeg(4032, 3024, { sof: 0xc2 })))).toEqual({ format: 'jpeg', width: 4032, height: 3024, complete: true });
    expect(expectOk(probeImage(jpeg(640, 480, { eoi: false })))).toEqual({ format: 'jpeg', width: 640, height: 480, complete: false });
  });

  it('JPEG: skips fill bytes (FF FF) between segments', () => {
    const j = jpeg(300, 200);
    const withFill = bytes(j.subarray(0, 2), [0xff, 0xff], j.subarray(2));
    expect(expectOk(probeImage(withFill))).toMatchObject({ width: 300, height: 200 });
  });

  it('WebP VP8X (extended): 24-bit canvas size minus one', () => {
    // 1024x683: 1023 = 0x0003FF -> FF 03 00; 682 = 0x0002AA -> AA 02 00
    const vp8x = riff(bytes('VP8X', u32le(10), [0x10, 0, 0, 0], [0xff, 0x03, 0x00], [0xaa, 0x02, 0x00]));
    expect(vp8x.length).toBe(30);
    expect(expectOk(probeImage(vp8x))).toEqual({ format: 'webp', width: 1024, height: 683, complete: true });
    // 20000x3000: 19999 = 0x004E1F, 2999 = 0x000BB7
    const big = riff(bytes('VP8X', u32le(10), [0, 0, 0, 0], [0x1f, 0x4e, 0x00], [0xb7, 0x0b, 0x00]));
    expect(expectOk(probeImage(big))).toMatchObject({ width: 20000, height: 3000 });
  });

  it('WebP VP8L (lossless): 14-bit width-1 and height-1 packed after the 0x2F signature', () => {
    // 400x300: bits = 399 | 299 << 14 = 399 + 4898816 = 4899215 = 0x004AC18F -> 8F C1 4A 00
    const vp8l = riff(bytes('VP8L', u32le(10), [0x2f], [0x8f, 0xc1, 0x4a, 0x00], [0, 0, 0, 0, 0]));
    expect(expectOk(probeImage(vp8l))).toEqual({ format: 'webp', width: 400, height: 300, complete: true });
    // the top bits (alpha hint, version) do not leak into the height: 0x10 in the last byte is bit 28
    const withAlpha = riff(bytes('VP8L', u32le(10), [0x2f], [0x8f, 0xc1, 0x4a, 0x10], [0, 0, 0, 0, 0]));
    expect(expectOk(probeImage(withAlpha))).toMatchObject({ width: 400, height: 300 });
  });

  it('WebP VP8 (lossy): 14-bit sizes after the 9D 01 2A start code, scale bits masked off', () => {
    // 640 = 0x0280 -> 80 02; 480 = 0x01E0 -> E0 01
    const vp8 = riff(bytes('VP8 ', u32le(10), [0, 0, 0], [0x9d, 0x01, 0x2a], [0x80, 0x02], [0xe0, 0x01]));
    expect(expectOk(probeImage(vp8))).toEqual({ format: 'webp', width: 640, height: 480, complete: true });
    // horizontal scale 1 sets bit 14: 0x4280 still means 640 wide
    const scaled = riff(bytes('VP8 ', u32le(10), [0, 0, 0], [0x9d, 0x01, 0x2a], [0x80, 0x42], [0xe0, 0x01]));
    expect(expectOk(probeImage(scaled))).toMatchObject({ width: 640, height: 480 });
  });

  it('WebP: incomplete when the RIFF size promises more bytes than there are', () => {
    const body = bytes('VP8 ', u32le(10), [0, 0, 0], [0x9d, 0x01, 0x2a], [0x80, 0x02], [0xe0, 0x01]);
    expect(expectOk(probeImage(riff(body, 5000))).complete).toBe(false);
  });

  it('GIF: little-endian logical screen size, complete with the 0x3B trailer', () => {
    expect(expectOk(probeImage(gif(320, 200)))).toEqual({ format: 'gif', width: 320, height: 200, complete: true });
    expect(expectOk(probeImage(bytes('GIF87a', u16le(1000), u16le(750), [0, 0, 0, 0x3b])))).toMatchObject({ width: 1000, height: 750 });
    expect(expectOk(probeImage(gif(320, 200, { trailer: false }))).complete).toBe(false);
  });

  it('BMP: signed 32-bit size (top-down bitmaps have negative height), complete per the declared file size', () => {
    expect(expectOk(probeImage(bmp(160, 120)))).toEqual({ format: 'bmp', width: 160, height: 120, complete: true });
    // -120 as int32 little-endian is 88 FF FF FF
    expect(expectOk(probeImage(bmp(160, -120)))).toEqual({ format: 'bmp', width: 160, height: 120, complete: true });
    expect(expectOk(probeImage(bmp(160, 120, { declared: 54 + 160 * 120 * 3 }))).complete).toBe(false);
  });
});

describe('probeImage on real photos', () => {
  it.skipIf(!existsSync(CAT_PNG))('chelsea_cat.png is a complete 451x300 PNG; its first half is not complete', () => {
    const cat = new Uint8Array(readFileSync(CAT_PNG));
    expect(expectOk(probeImage(cat))).toEqual({ format: 'png', width: 451, height: 300, complete: true });
    expect(expectOk(probeImage(cat.subarray(0, cat.length >> 1)))).toEqual({ format: 'png', width: 451, height: 300, complete: false });
  });

  it.skipIf(!existsSync(VAL_JPEG))('an ImageNet val JPEG is a complete 227x227 JPEG; its first half is not complete', () => {
    const photo = new Uint8Array(readFileSync(VAL_JPEG));
    expect(expectOk(probeImage(photo))).toEqual({ format: 'jpeg', width: 227, height: 227, complete: true });
    expect(expectOk(probeImage(photo.subarray(0, photo.length >> 1)))).toEqual({ format: 'jpeg', width: 227, height: 227, complete: false });
  });

  it.skipIf(!existsSync(WEBP_VP8) || !existsSync(WEBP_VP8X))('real WebP photos: VP8 1024x768 and VP8X 1024x683', () => {
    // header bytes read with xxd: VP8 "00 04 00 03" = 1024 x 768; VP8X "FF 03 00 AA 02 00" = (1023+1) x (682+1)
    expect(expectOk(probeImage(new Uint8Array(readFileSync(WEBP_VP8))))).toEqual({ format: 'webp', width: 1024, height: 768, complete: true });
    expect(expectOk(probeImage(new Uint8Array(readFileSync(WEBP_VP8X))))).toEqual({ format: 'webp', width: 1024, height: 683, complete: true });
  });
});

describe('JPEG EXIF orientation', () => {
  /** SOI, APP1 "Exif" with a one-entry IFD0 (Orientation), SOF0 100x50, SOS, EOI. */
  function jpegWithOrientation(value: number, littleEndian: boolean): Uint8Array {
    const tiff = littleEndian
      ? [0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, value, 0x00, 0x00, 0x00, 0, 0, 0, 0]
      : [0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, value, 0x00, 0x00, 0, 0, 0, 0];
    const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
    const app1 = [0xff, 0xe1, ((exif.length + 2) >> 8) & 0xff, (exif.length + 2) & 0xff, ...exif];
    const sof = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 50, 0x00, 100, 0x01, 0x01, 0x11, 0x00];
    const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
    return new Uint8Array([0xff, 0xd8, ...app1, ...sof, ...sos, 0x12, 0x34, 0xff, 0xd9]);
  }

  it('reads the Orientation tag in both byte orders', () => {
    for (const little of [true, false]) {
      const r = probeImage(jpegWithOrientation(6, little));
      expect(r).toEqual({ ok: true, probe: { format: 'jpeg', width: 100, height: 50, complete: true, orientation: 6 } });
    }
  });

  it('ignores an out-of-range value and a JPEG without EXIF', () => {
    const bad = probeImage(jpegWithOrientation(9, true));
    expect(bad.ok && bad.probe.orientation).toBeUndefined();
  });
});
