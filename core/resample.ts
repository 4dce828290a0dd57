/**
 * Antialiased bilinear resampling (a triangle filter widened by the
 * downscale factor, as PIL and torchvision do it, which is how the zoo
 * models saw their training photos). It runs in core/ so the browser and
 * Node turn the same decoded pixels into exactly the same model input,
 * instead of each image library resampling its own way.
 */
import type { ResizeCrop } from './preprocess.ts';

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  width: number;
}

/**
 * Filter taps for `outCount` output samples starting at output index
 * `outStart` of a resize from inSize to outSize.
 */
function taps(inSize: number, outSize: number, outStart: number, outCount: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support is 1, widened when shrinking
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outCount);
  const count = new Int32Array(outCount);
  const weights = new Float32Array(outCount * width);
  for (let o = 0; o < outCount; o++) {
    const centre = (outStart + o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const w = Math.max(0, 1 - Math.abs((i - centre + 0.5) / filterScale));
      weights[o * width + (i - lo)] = w;
      sum += w;
    }
    if (sum > 0) for (let i = 0; i < hi - lo; i++) weights[o * width + i] /= sum;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, weights, width };
}

export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The part of a width x height source that the plan's crop reads: decode or copy only this. */
export function sourceWindow(width: number, height: number, plan: ResizeCrop): Window {
  const h = taps(width, plan.resizedWidth, plan.crop.x, plan.crop.width);
  const v = taps(height, plan.resizedHeight, plan.crop.y, plan.crop.height);
  const last = (t: Taps) => t.start[t.start.length - 1] + t.count[t.count.length - 1];
  return { x: h.start[0], y: v.start[0], width: last(h) - h.start[0], height: last(v) - v.start[0] };
}

/**
 * Resizes a width x height source to plan.resizedWidth x plan.resizedHeight
 * and returns only the plan's crop, as packed RGB values in 0..255, unrounded
 * (crop.width x crop.height x 3). `src` holds `channels` interleaved values
 * per pixel of `win`, a window of the source (the whole source by default;
 * sourceWindow() gives the smallest that works).
 */
export function resampleCrop(src: ArrayLike<number>, width: number, height: number, channels: 3 | 4, plan: ResizeCrop, win: Window = { x: 0, y: 0, width, height }): Float32Array {
  if (src.length < win.width * win.height * channels) throw new RangeError(`expected ${win.width * win.height * channels} values for ${win.width}x${win.height}x${channels}, got ${src.length}`);
  const { crop } = plan;
  const h = taps(width, plan.resizedWidth, crop.x, crop.width);
  const v = taps(height, plan.resizedHeight, crop.y, crop.height);
  const rowLo = v.start[0];
  const rowHi = v.start[crop.height - 1] + v.count[crop.height - 1];
  if (rowLo < win.y || rowHi > win.y + win.height || h.start[0] < win.x || h.start[crop.width - 1] + h.count[crop.width - 1] > win.x + win.width) {
    throw new RangeError('the source window does not cover the crop');
  }
  // Horizontal pass over just the rows the vertical pass will read.
  const rows = rowHi - rowLo;
  const mid = new Float32Array(rows * crop.width * 3);
  for (let y = 0; y < rows; y++) {
    const rowBase = (rowLo + y - win.y) * win.width * channels;
    for (let x = 0; x < crop.width; x++) {
      let r = 0,
        g = 0,
        b = 0;
      const base = rowBase + (h.start[x] - win.x) * channels;
      const wBase = x * h.width;
      for (let k = 0, n = h.count[x]; k < n; k++) {
        const w = h.weights[wBase + k];
        const p = base + k * channels;
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      const m = (y * crop.width + x) * 3;
      mid[m] = r;
      mid[m + 1] = g;
      mid[m + 2] = b;
    }
  }
  const out = new Float32Array(crop.width * crop.height * 3);
  const stride = crop.width * 3;
  for (let y = 0; y < crop.height; y++) {
    const first = v.start[y] - rowLo;
    const wBase = y * v.width;
    for (let x = 0; x < stride; x++) {
      let acc = 0;
      for (let k = 0, n = v.count[y]; k < n; k++) acc += mid[(first + k) * stride + x] * v.weights[wBase + k];
      out[y * stride + x] = acc <= 0 ? 0 : acc >= 255 ? 255 : acc;
    }
  }
  return out;
}
