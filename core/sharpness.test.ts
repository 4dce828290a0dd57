import { describe, expect, it } from 'vitest';
import { grayscale, laplacianVariance, sharpness } from './sharpness.ts';

/** A 3x3 box blur (edges clamped), the way a moving camera smears a frame. */
function blur(gray: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          s += gray[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))];
        }
      out[y * w + x] = s / 9;
    }
  return out;
}

const checkerboard = (w: number, h: number, cell: number) => {
  const g = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) g[y * w + x] = ((Math.floor(x / cell) + Math.floor(y / cell)) % 2) * 255;
  return g;
};

describe('laplacianVariance', () => {
  it('is 0 for a flat frame and for a linear ramp (no edges)', () => {
    expect(laplacianVariance(new Float32Array(64).fill(128), 8, 8)).toBe(0);
    const ramp = Float32Array.from({ length: 64 }, (_, i) => (i % 8) * 10 + Math.floor(i / 8) * 3);
    expect(laplacianVariance(ramp, 8, 8)).toBeCloseTo(0, 6);
  });

  it('matches a hand computation: one bright pixel in a 5x5 frame', () => {
    const g = new Float32Array(25);
    g[12] = 1;
    // Interior 3x3 Laplacian: -4 at the centre, 1 at its four neighbours, 0 at the corners: mean 0, variance 20/9.
    expect(laplacianVariance(g, 5, 5)).toBeCloseTo(20 / 9, 10);
  });

  it('falls with every blur pass, so the sharpest frame of a shaky burst wins', () => {
    let g: Float32Array = checkerboard(64, 48, 4);
    let last = laplacianVariance(g, 64, 48);
    expect(last).toBeGreaterThan(1000);
    for (let pass = 0; pass < 4; pass++) {
      g = blur(g, 64, 48);
      const v = laplacianVariance(g, 64, 48);
      expect(v).toBeLessThan(last * 0.8);
      last = v;
    }
  });

  it('is 0 for frames too small to have an interior, and refuses a short buffer', () => {
    expect(laplacianVariance(new Float32Array(4), 2, 2)).toBe(0);
    expect(() => laplacianVariance(new Float32Array(10), 4, 4)).toThrow(/expected 16 values/);
  });
});

describe('grayscale and sharpness', () => {
  it('weights RGB as BT.601 luma and skips alpha', () => {
    const rgba = new Uint8ClampedArray([255, 0, 0, 7, 0, 255, 0, 7, 0, 0, 255, 7]);
    const g = grayscale(rgba, 3, 1, 4);
    expect(Array.from(g).map((v) => +v.toFixed(3))).toEqual([76.245, 149.685, 29.07]);
  });

  it('gives RGB and RGBA copies of the same frame the same sharpness', () => {
    const gray = checkerboard(16, 16, 2);
    const rgb = new Uint8Array(16 * 16 * 3);
    const rgba = new Uint8Array(16 * 16 * 4);
    gray.forEach((v, i) => {
      rgb.fill(v, i * 3, i * 3 + 3);
      rgba.fill(v, i * 4, i * 4 + 3);
      rgba[i * 4 + 3] = 255;
    });
    expect(sharpness(rgb, 16, 16, 3)).toBeCloseTo(sharpness(rgba, 16, 16, 4), 3);
    expect(sharpness(rgb, 16, 16, 3)).toBeGreaterThan(0);
  });

  it('refuses a bad size or a buffer shorter than the frame', () => {
    expect(() => grayscale(new Uint8Array(12), 0, 3, 4)).toThrow(/positive whole numbers/);
    expect(() => grayscale(new Uint8Array(11), 3, 1, 4)).toThrow(/expected 12 values/);
  });
});
