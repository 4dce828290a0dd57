/**
 * Reads just enough of an image file's header to know its format, size and
 * whether it is complete, before anything is decoded. Decoders in browsers
 * happily paint half a truncated JPEG grey and call it a success, and a
 * 20,000 x 20,000 PNG would take the tab down while decoding, so both are
 * caught here from the bytes alone.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp';

export interface ImageProbe {
  format: ImageFormat;
  width: number;
  height: number;
  /** false when the file ends before the format's end marker. */
  complete: boolean;
  /** EXIF orientation (1-8) of a JPEG; 5-8 swap width and height when shown. */
  orientation?: number;
}

/** Formats that are images but that the app cannot decode everywhere. */
export type UnsupportedFormat = 'heic' | 'avif' | 'tiff' | 'svg' | 'ico';

export type ProbeResult =
  | { ok: true; probe: ImageProbe }
  | { ok: false; reason: 'empty' }
  | { ok: false; reason: 'not-an-image' }
  | { ok: false; reason: 'unsupported'; format: UnsupportedFormat }
  | { ok: false; reason: 'corrupt'; format: ImageFormat | 'unknown' };

const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len));

const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
const i32le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);

export function probeImage(bytes: Uint8Array): ProbeResult {
  if (bytes.length === 0) return { ok: false, reason: 'empty' };
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return probeJpeg(bytes);
  if (bytes.length >= 8 && u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a) return probePng(bytes);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return probeWebp(bytes);
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return probeGif(bytes);
  if (bytes.length >= 2 && ascii(bytes, 0, 2) === 'BM') return probeBmp(bytes);
  const unsupported = sniffUnsupported(bytes);
  if (unsupported) return { ok: false, reason: 'unsupported', format: unsupported };
  return { ok: false, reason: 'not-an-image' };
}

function sniffUnsupported(b: Uint8Array): UnsupportedFormat | null {
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    if (brand.startsWith('avi')) return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return 'tiff';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return 'ico';
  const head = ascii(b, 0, Math.min(b.length, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  return null;
}

function probeJpeg(b: Uint8Array): ProbeResult {
  let at = 2;
  let width = 0;
  let height = 0;
  let orientation: number | undefined;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return { ok: false, reason: 'corrupt', format: 'jpeg' };
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    } // fill byte
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = u16be(b, at + 2);
    if (len < 2) return { ok: false, reason: 'corrupt', format: 'jpeg' };
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (at + 9 > b.length) return { ok: false, reason: 'corrupt', format: 'jpeg' };
      height = u16be(b, at + 5);
      width = u16be(b, at + 7);
    }
    if (marker === 0xe1 && orientation === undefined) orientation = exifOrientation(b, at + 4, at + 2 + len);
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    at += 2 + len;
  }
  if (!width || !height) return { ok: false, reason: 'corrupt', format: 'jpeg' };
  return { ok: true, probe: { format: 'jpeg', width, height, complete: jpegHasEnd(b), ...(orientation ? { orientation } : {}) } };
}

/** The Orientation tag (0x0112) of IFD0 in an APP1 "Exif" segment spanning [start, end). */
function exifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  if (end > b.length || end - start < 14 || ascii(b, start, 6) !== 'Exif\0\0') return undefined;
  const tiff = start + 6;
  const little = b[tiff] === 0x49; // "II" little-endian, "MM" big-endian
  const u16 = (at: number) => (little ? u16le(b, at) : u16be(b, at));
  const u32 = (at: number) => (little ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0 : u32be(b, at));
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** A complete JPEG ends with EOI (FFD9), possibly followed by a little padding. */
function jpegHasEnd(b: Uint8Array): boolean {
  const from = Math.max(2, b.length - 4096);
  for (let i = b.length - 2; i >= from; i--) {
    if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  }
  return false;
}

function probePng(b: Uint8Array): ProbeResult {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return { ok: false, reason: 'corrupt', format: 'png' };
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  if (!width || !height) return { ok: false, reason: 'corrupt', format: 'png' };
  // IEND is a fixed 12-byte chunk at the very end of every complete PNG.
  const complete = b.length >= 12 && ascii(b, b.length - 8, 4) === 'IEND';
  return { ok: true, probe: { format: 'png', width, height, complete } };
}

function probeWebp(b: Uint8Array): ProbeResult {
  const declared = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
  const complete = b.length >= declared + 8;
  const chunk = b.length >= 30 ? ascii(b, 12, 4) : '';
  let width = 0;
  let height = 0;
  if (chunk === 'VP8 ') {
    width = u16le(b, 26) & 0x3fff;
    height = u16le(b, 28) & 0x3fff;
  } else if (chunk === 'VP8L') {
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X') {
    width = u24le(b, 24) + 1;
    height = u24le(b, 27) + 1;
  }
  if (!width || !height) return { ok: false, reason: 'corrupt', format: 'webp' };
  return { ok: true, probe: { format: 'webp', width, height, complete } };
}

function probeGif(b: Uint8Array): ProbeResult {
  if (b.length < 10) return { ok: false, reason: 'corrupt', format: 'gif' };
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  if (!width || !height) return { ok: false, reason: 'corrupt', format: 'gif' };
  return { ok: true, probe: { format: 'gif', width, height, complete: b[b.length - 1] === 0x3b } };
}

function probeBmp(b: Uint8Array): ProbeResult {
  if (b.length < 26) return { ok: false, reason: 'corrupt', format: 'bmp' };
  const width = Math.abs(i32le(b, 18));
  const height = Math.abs(i32le(b, 22));
  const declared = (b[2] | (b[3] << 8) | (b[4] << 16) | (b[5] << 24)) >>> 0;
  if (!width || !height) return { ok: false, reason: 'corrupt', format: 'bmp' };
  return { ok: true, probe: { format: 'bmp', width, height, complete: b.length >= declared } };
}

/**
 * The kinds of APP1 segments in a JPEG before its image data: "exif" (camera,
 * time and often GPS) and "xmp" (which can carry the same). Walks the
 * segment headers only, so it costs nothing for big files.
 */
export function jpegMetadataSegments(b: Uint8Array): Array<'exif' | 'xmp' | 'other'> {
  const found: Array<'exif' | 'xmp' | 'other'> = [];
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return found;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) break;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, start of scan
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = (b[at + 2] << 8) | b[at + 3];
    if (len < 2) break;
    if (marker === 0xe1) {
      const id = String.fromCharCode(...b.subarray(at + 4, Math.min(at + 4 + 29, b.length)));
      found.push(id.startsWith('Exif\0') ? 'exif' : id.startsWith('http://ns.adobe.com/xap/') ? 'xmp' : 'other');
    }
    at += 2 + len;
  }
  return found;
}
