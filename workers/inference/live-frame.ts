/**
 * What the worker adds to a live preview frame beside its answer: how sharp
 * it is (core/sharpness.ts on a small grayscale copy), and, when it is
 * sharper than the best frame the page holds, the frame itself as a JPEG,
 * so the page can keep the sharpest recent frame as the observation's photo
 * without ever holding a copy of every frame.
 */
import { sharpness } from '../../core/sharpness.ts';

/** Long side of the copy sharpness is measured on: small enough to cost well under a millisecond. */
export const SHARPNESS_SIDE = 160;

let canvas: OffscreenCanvas | null = null;

/** Sharpness of a frame, measured at SHARPNESS_SIDE on its long side (so frames of one camera compare). */
export function frameSharpness(frame: ImageBitmap): number {
  const k = Math.min(1, SHARPNESS_SIDE / Math.max(frame.width, frame.height));
  const w = Math.max(3, Math.round(frame.width * k));
  const h = Math.max(3, Math.round(frame.height * k));
  if (!canvas) canvas = new OffscreenCanvas(w, h);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
  if (!ctx) throw new Error('OffscreenCanvas 2D is not available in this browser');
  ctx.drawImage(frame, 0, 0, w, h);
  return sharpness(ctx.getImageData(0, 0, w, h).data, w, h, 4);
}

/** The whole frame as a JPEG (a canvas writes no metadata). */
export async function frameJpeg(frame: ImageBitmap): Promise<Blob> {
  const c = new OffscreenCanvas(frame.width, frame.height);
  c.getContext('2d')!.drawImage(frame, 0, 0);
  return c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}
