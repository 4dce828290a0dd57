/**
 * How small a big JPEG may be decoded. JPEG decoders can skip most of the
 * work by decoding straight to 1/2, 1/4 or 1/8 of the stored size (DCT
 * scaling); a 12 MP camera photo decoded at 1/4 is ~16x fewer pixels to
 * produce and copy. The model needs far less than the photo has, so the
 * scale is the smallest that still leaves `minShorter` pixels on the short
 * side, which keeps a 2x margin for core/'s antialiased resample.
 */

/**
 * The short side a big photo is decoded down to when nothing else is known:
 * twice the 256-pixel resize target of every shipped model version (the
 * worker passes 2 x its version's `resizeShorter`).
 */
export const DECODE_SHORTER = 512;

/** The scales every libjpeg-based decoder supports (Chromium's picks among these). */
const SCALES = [1 / 8, 1 / 4, 1 / 2] as const;

export interface DecodeSize {
  /** Stored (unrotated) size to ask the decoder for. */
  width: number;
  height: number;
  scale: number;
}

/**
 * The reduced decode size for a JPEG stored at width x height, or null when
 * decoding at full size is what it takes (a photo not at least twice
 * `minShorter` on its short side).
 */
export function jpegDecodeSize(width: number, height: number, minShorter: number): DecodeSize | null {
  if (!(width > 0 && height > 0 && minShorter > 0)) throw new Error(`bad decode size request ${width}x${height} for ${minShorter}`);
  for (const scale of SCALES) {
    // libjpeg rounds scaled dimensions up.
    const w = Math.ceil(width * scale);
    const h = Math.ceil(height * scale);
    if (Math.min(w, h) >= minShorter) return { width: w, height: h, scale };
  }
  return null;
}
