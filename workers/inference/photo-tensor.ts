/**
 * Photo bytes to model input, in a worker: checks the bytes, decodes with
 * createImageBitmap (which applies EXIF orientation), and resamples the
 * model's crop on an OffscreenCanvas with the geometry from core/.
 */
import { checkPhoto, decodeFailed, PhotoError } from '../../core/photo-check.ts';
import { pixelsToTensor, resizeCropPlan, type InputSpec } from '../../core/preprocess.ts';

export interface Prepared { width: number; height: number; decodeMs: number; preprocessMs: number }

let canvas: OffscreenCanvas | null = null;

function context(size: number): OffscreenCanvasRenderingContext2D {
  if (!canvas || canvas.width !== size) canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
  if (!ctx) throw new Error('OffscreenCanvas 2D is not available in this browser');
  return ctx;
}

export async function decodePhoto(input: Blob | ImageBitmap, name?: string): Promise<{ bitmap: ImageBitmap; ms: number }> {
  const t0 = performance.now();
  if (input instanceof ImageBitmap) return { bitmap: input, ms: 0 };
  checkPhoto(new Uint8Array(await input.arrayBuffer()), name);
  try {
    const bitmap = await createImageBitmap(input, { imageOrientation: 'from-image' });
    return { bitmap, ms: performance.now() - t0 };
  } catch {
    throw decodeFailed(name);
  }
}

/** Writes the photo's model crop into `out` at `offset` (NCHW, normalized). */
export function bitmapToTensor(bitmap: ImageBitmap, spec: InputSpec, out: Float32Array, offset: number): number {
  const t0 = performance.now();
  if (Math.min(bitmap.width, bitmap.height) < 1) throw new PhotoError('decode-failed', 'The photo decoded to an empty image.');
  const plan = resizeCropPlan(bitmap.width, bitmap.height, spec);
  const ctx = context(spec.size);
  // Bilinear, as the models were trained with; mipmaps keep big photos from aliasing.
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'medium';
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, spec.size, spec.size);
  ctx.drawImage(bitmap, -plan.crop.x, -plan.crop.y, plan.resizedWidth, plan.resizedHeight);
  const { data } = ctx.getImageData(0, 0, spec.size, spec.size);
  pixelsToTensor(data, spec, 4, out, offset);
  return performance.now() - t0;
}
