/**
 * Preprocessing math shared by the browser worker and Node. Each runtime
 * decodes and resamples with its own image library; the geometry (which part
 * of the photo the model sees) and the normalization are decided here so both
 * feed the model the same crop.
 */

export interface InputSpec {
  /** Model input edge in pixels (square). */
  size: number;
  /** The shorter side is resized to this before the centre crop. */
  resizeShorter: number;
  /**
   * 'center': resize the shorter side, then cut the centre square (the zoo
   * models). 'full': squash the whole photo to size x size, aspect not kept
   * (resizeShorter unused), which is how the species packs score best
   * (measured: see README "Species packs in the product").
   */
  crop: 'center' | 'full';
  mean: [number, number, number];
  std: [number, number, number];
  layout: 'NCHW';
  channels: 'RGB';
  /** Pixel values are multiplied by this before mean/std (1/255). */
  scale: number;
}

export const IMAGENET_INPUT: InputSpec = {
  size: 224,
  resizeShorter: 256,
  crop: 'center',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  layout: 'NCHW',
  channels: 'RGB',
  scale: 1 / 255,
};

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * "Resize the shorter side to resizeShorter, then centre-crop size": the
 * resized image's size and where the crop sits in it, in whole pixels, so
 * every runtime resamples the same way and cuts exactly the same window.
 */
export interface ResizeCrop {
  resizedWidth: number;
  resizedHeight: number;
  crop: Rect;
}

export function resizeCropPlan(width: number, height: number, spec: Pick<InputSpec, 'size' | 'resizeShorter'> & { crop?: InputSpec['crop'] }): ResizeCrop {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  if (spec.crop === 'full') return { resizedWidth: spec.size, resizedHeight: spec.size, crop: { x: 0, y: 0, width: spec.size, height: spec.size } };
  const k = spec.resizeShorter / Math.min(width, height);
  const resizedWidth = Math.max(spec.size, Math.round(width * k));
  const resizedHeight = Math.max(spec.size, Math.round(height * k));
  return {
    resizedWidth,
    resizedHeight,
    crop: { x: Math.round((resizedWidth - spec.size) / 2), y: Math.round((resizedHeight - spec.size) / 2), width: spec.size, height: spec.size },
  };
}

/**
 * Writes interleaved RGB(A) pixels of a size x size image into a planar,
 * normalized float tensor: out[offset + c*size*size + y*size + x].
 * `channels` is 4 for canvas RGBA data and 3 for packed RGB.
 */
export function pixelsToTensor(pixels: ArrayLike<number>, spec: InputSpec, channels: 3 | 4, out: Float32Array = new Float32Array(3 * spec.size * spec.size), offset = 0): Float32Array {
  const plane = spec.size * spec.size;
  if (pixels.length !== plane * channels) {
    throw new RangeError(`expected ${plane * channels} values for a ${spec.size}x${spec.size} image with ${channels} channels, got ${pixels.length}`);
  }
  if (out.length < offset + 3 * plane) throw new RangeError('output tensor too small');
  // Fold scale, mean and std into one multiply-add per value.
  const a = spec.std.map((s) => spec.scale / s);
  const b = spec.mean.map((m, i) => -m / spec.std[i]);
  const r = offset;
  const g = offset + plane;
  const bl = offset + 2 * plane;
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    out[r + i] = pixels[p] * a[0] + b[0];
    out[g + i] = pixels[p + 1] * a[1] + b[1];
    out[bl + i] = pixels[p + 2] * a[2] + b[2];
  }
  return out;
}
