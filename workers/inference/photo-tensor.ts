/**
 * Photo bytes to model input, in a worker: checks the bytes, decodes with
 * createImageBitmap or ImageDecoder (both apply EXIF orientation), reads the pixels
 * through an OffscreenCanvas, and resamples them with core/.
 */
import { checkPhoto, decodeFailed, PHOTO_LIMITS, PhotoError } from '../../core/photo-check.ts';
import { pixelsToTensor, resizeCropPlan, type InputSpec } from '../../core/preprocess.ts';
import { resampleCrop, sourceWindow } from '../../core/resample.ts';
import { DECODE_SHORTER, jpegDecodeSize } from '../../core/decode-size.ts';
import type { ClassifyResult } from './types.ts';

let canvas: OffscreenCanvas | null = null;

function context(width: number, height: number): OffscreenCanvasRenderingContext2D {
  if (!canvas) canvas = new OffscreenCanvas(width, height);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
  if (!ctx) throw new Error('OffscreenCanvas 2D is not available in this browser');
  return ctx;
}

/**
 * Decodes a photo (EXIF orientation applied). A photo far bigger than the
 * model needs (short side at least 4x the resize target, e.g. a 12 MP
 * camera photo) is decoded straight to about twice the target: a JPEG by
 * the decoder itself at 1/2, 1/4 or 1/8 scale (WebCodecs ImageDecoder with
 * a desired size), which skips most of the decoding work; anything else,
 * or a browser without ImageDecoder, through createImageBitmap's resize.
 * core/ then still has a 2x margin to resample from without aliasing.
 */
export async function decodePhoto(
  input: Blob | ImageBitmap,
  name?: string,
  spec?: Pick<InputSpec, 'resizeShorter'>,
): Promise<{ bitmap: ImageBitmap; ms: number; width: number; height: number; decodedBy?: ClassifyResult['decodedBy'] }> {
  const t0 = performance.now();
  if (input instanceof ImageBitmap) return { bitmap: input, ms: 0, width: input.width, height: input.height };
  const bytes = new Uint8Array(await input.arrayBuffer());
  // The pixel limit is judged at the size this decode will produce (a big JPEG at 1/2..1/8).
  const probe = checkPhoto(bytes, name, spec ? 2 * spec.resizeShorter : DECODE_SHORTER);
  const swap = (probe.orientation ?? 1) >= 5;
  const width = swap ? probe.height : probe.width;
  const height = swap ? probe.width : probe.height;
  const target = spec ? 2 * spec.resizeShorter : 0;
  const k = target && Math.min(width, height) >= 2 * target ? target / Math.min(width, height) : 1;
  try {
    if (k < 1 && probe.format === 'jpeg') {
      const bitmap = await decodeJpegScaled(bytes, probe.width, probe.height, target);
      if (bitmap) return { bitmap, ms: performance.now() - t0, width, height, decodedBy: 'jpeg-dct' };
      // Admitted only because it decodes small; this browser cannot, so a full decode is not attempted.
      if (probe.width * probe.height > PHOTO_LIMITS.maxMegapixels * 1e6) {
        throw new PhotoError(
          'too-many-pixels',
          `${name ?? 'This file'} is ${((probe.width * probe.height) / 1e6).toFixed(0)} megapixels, and this browser cannot decode it at reduced size; photos up to ${PHOTO_LIMITS.maxMegapixels} megapixels can be identified here.`,
        );
      }
    }
    const bitmap =
      k < 1
        ? await createImageBitmap(input, { imageOrientation: 'from-image', resizeWidth: Math.round(width * k), resizeHeight: Math.round(height * k), resizeQuality: 'high' })
        : await createImageBitmap(input, { imageOrientation: 'from-image' });
    // The photo's own size (as shown), not the size it was decoded at.
    return { bitmap, ms: performance.now() - t0, width, height, ...(k < 1 ? { decodedBy: 'resize' as const } : {}) };
  } catch (err) {
    if (err instanceof PhotoError) throw err;
    throw decodeFailed(name);
  }
}

/**
 * A JPEG decoded by the browser at a reduced DCT scale, orientation
 * applied (createImageBitmap of a VideoFrame honours its rotation and flip).
 * null when this browser cannot, or when the decoder gave back less than
 * asked for: the caller then takes the full decode path.
 */
async function decodeJpegScaled(bytes: Uint8Array, storedWidth: number, storedHeight: number, minShorter: number): Promise<ImageBitmap | null> {
  const size = jpegDecodeSize(storedWidth, storedHeight, minShorter);
  if (!size || typeof ImageDecoder === 'undefined') return null;
  let decoder: ImageDecoder | null = null;
  let frame: VideoFrame | null = null;
  try {
    decoder = new ImageDecoder({ type: 'image/jpeg', data: bytes, desiredWidth: size.width, desiredHeight: size.height });
    frame = (await decoder.decode()).image;
    if (Math.min(frame.codedWidth, frame.codedHeight) < minShorter) return null;
    return await createImageBitmap(frame);
  } catch {
    // A decoder error here is not the last word: the full decode decides whether the photo is corrupt.
    return null;
  } finally {
    frame?.close();
    decoder?.close();
  }
}

/**
 * Writes the photo's model crop into `out` at `offset` (NCHW, normalized).
 * The canvas only copies the decoded pixels the crop needs (at 1:1, so the
 * browser does no resampling of its own); core/ resamples them exactly as
 * Node does, so both runtimes feed the model the same numbers.
 */
export function bitmapToTensor(bitmap: ImageBitmap, spec: InputSpec, out: Float32Array, offset: number): number {
  const t0 = performance.now();
  if (Math.min(bitmap.width, bitmap.height) < 1) throw new PhotoError('decode-failed', 'The photo decoded to an empty image.');
  const plan = resizeCropPlan(bitmap.width, bitmap.height, spec);
  const win = sourceWindow(bitmap.width, bitmap.height, plan);
  const ctx = context(win.width, win.height);
  // Transparent pixels are flattened onto black, as the Node path does.
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, win.width, win.height);
  ctx.drawImage(bitmap, win.x, win.y, win.width, win.height, 0, 0, win.width, win.height);
  const { data } = ctx.getImageData(0, 0, win.width, win.height);
  const rgb = resampleCrop(data, bitmap.width, bitmap.height, 4, plan, win);
  pixelsToTensor(rgb, spec, 3, out, offset);
  return performance.now() - t0;
}

/** The photo drawn at most maxSide pixels on its long side, as a JPEG (a canvas writes no EXIF). */
async function scaledJpeg(bitmap: ImageBitmap, maxSide: number, quality: number): Promise<{ blob: Blob; width: number; height: number }> {
  const k = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * k));
  const height = Math.max(1, Math.round(bitmap.height * k));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  return { blob: await canvas.convertToBlob({ type: 'image/jpeg', quality }), width, height };
}

/** A small JPEG of the photo for the history list; it never leaves the device. */
export async function thumbnailOf(bitmap: ImageBitmap, maxSide = 192): Promise<Blob> {
  return (await scaledJpeg(bitmap, maxSide, 0.75)).blob;
}

/**
 * The photo as the user may choose to share it: re-encoded through a canvas
 * (which writes no EXIF, so no camera, time or GPS data), at most maxSide
 * pixels on its long side.
 */
export async function shareableJpeg(blob: Blob, maxSide = 1024): Promise<{ dataBase64: string; width: number; height: number }> {
  // Decoded small when it is big (a 108 MP photo at 1/8, with at least maxSide on its short side), never whole.
  const { bitmap } = await decodePhoto(blob, undefined, { resizeShorter: Math.ceil(maxSide / 2) });
  try {
    const { blob: out, width, height } = await scaledJpeg(bitmap, maxSide, 0.85);
    const jpeg = new Uint8Array(await out.arrayBuffer());
    let bin = '';
    for (let i = 0; i < jpeg.length; i += 0x8000) bin += String.fromCharCode(...jpeg.subarray(i, i + 0x8000));
    return { dataBase64: btoa(bin), width, height };
  } finally {
    bitmap.close();
  }
}
