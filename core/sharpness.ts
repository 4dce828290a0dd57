/**
 * How sharp a frame is: the variance of its Laplacian (Pech-Pacheco et al.,
 * 2000). Edges give the 4-neighbour Laplacian large values of both signs,
 * so a focused, still frame has a large variance; motion blur or defocus
 * flattens it. Computed on a small grayscale copy (a few hundred pixels a
 * side), which keeps it to a fraction of a millisecond per frame; compare
 * values only between frames of the same size.
 */

/** Luma (BT.601) of packed pixels with `channels` per pixel (3 = RGB, 4 = RGBA). */
export function grayscale(pixels: ArrayLike<number>, width: number, height: number, channels: 3 | 4): Float32Array {
  const n = width * height;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`frame size must be positive whole numbers, got ${width}x${height}`);
  if (pixels.length < n * channels) throw new RangeError(`expected ${n * channels} values for ${width}x${height}x${channels}, got ${pixels.length}`);
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += channels) out[i] = 0.299 * pixels[j] + 0.587 * pixels[j + 1] + 0.114 * pixels[j + 2];
  return out;
}

/** Variance of the 4-neighbour Laplacian over the interior pixels of a grayscale frame (0 for frames under 3x3). */
export function laplacianVariance(gray: ArrayLike<number>, width: number, height: number): number {
  if (gray.length < width * height) throw new RangeError(`expected ${width * height} values for ${width}x${height}, got ${gray.length}`);
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const lap = gray[i - 1] + gray[i + 1] + gray[i - width] + gray[i + width] - 4 * gray[i];
      sum += lap;
      sumSq += lap * lap;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return Math.max(0, sumSq / n - mean * mean);
}

/** Sharpness of packed RGB(A) pixels. */
export function sharpness(pixels: ArrayLike<number>, width: number, height: number, channels: 3 | 4): number {
  return laplacianVariance(grayscale(pixels, width, height, channels), width, height);
}
