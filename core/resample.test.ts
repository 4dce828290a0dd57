import { describe, expect, it } from 'vitest';
import { resampleCrop, sourceWindow } from './resample.ts';
import { resizeCropPlan } from './preprocess.ts';

/** One grey channel repeated as RGB, width x 1. */
const row = (values: number[]) => values.flatMap((v) => [v, v, v]);

describe('resampleCrop', () => {
  it('keeps an image that is not resized', () => {
    const src = row([10, 20, 30]);
    const out = resampleCrop(src, 3, 1, 3, { resizedWidth: 3, resizedHeight: 1, crop: { x: 0, y: 0, width: 3, height: 1 } });
    expect(Array.from(out)).toEqual(src);
  });

  it('halves with a widened triangle filter (hand-computed weights)', () => {
    // 4 -> 2: scale 2, support 2. Output 0 is centred at 1.0 in source units;
    // inputs 0,1,2 sit at 0.5,1.5,2.5 -> raw weights 1-|d|/2 = .75,.75,.25 -> /1.75.
    const out = resampleCrop(row([0, 70, 140, 210]), 4, 1, 3, { resizedWidth: 2, resizedHeight: 1, crop: { x: 0, y: 0, width: 2, height: 1 } });
    const first = (0 * 0.75 + 70 * 0.75 + 140 * 0.25) / 1.75; // 50
    const second = (70 * 0.25 + 140 * 0.75 + 210 * 0.75) / 1.75; // 160
    expect(out[0]).toBeCloseTo(first, 4);
    expect(out[3]).toBeCloseTo(second, 4);
  });

  it('interpolates linearly when enlarging', () => {
    // 2 -> 4: output 1 is centred at 0.75 source units, between pixel centres 0.5 and 1.5: 3/4 of 0 and 1/4 of 100.
    const out = resampleCrop(row([0, 100]), 2, 1, 3, { resizedWidth: 4, resizedHeight: 1, crop: { x: 0, y: 0, width: 4, height: 1 } });
    expect(out[3]).toBeCloseTo(25, 4);
    expect(out[0]).toBeCloseTo(0, 4); // clamped at the edge
  });

  it('reads RGBA and ignores alpha', () => {
    const out = resampleCrop([1, 2, 3, 0, 4, 5, 6, 255], 2, 1, 4, { resizedWidth: 2, resizedHeight: 1, crop: { x: 0, y: 0, width: 2, height: 1 } });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('gives the same crop from a window as from the whole image', () => {
    const w = 300,
      h = 200;
    const src = new Uint8Array(w * h * 3).map((_, i) => (i * 7919) % 251);
    const plan = resizeCropPlan(w, h, { size: 32, resizeShorter: 40 });
    const win = sourceWindow(w, h, plan);
    expect(win.width).toBeLessThan(w);
    const sub = new Uint8Array(win.width * win.height * 3);
    for (let y = 0; y < win.height; y++) sub.set(src.subarray(((win.y + y) * w + win.x) * 3, ((win.y + y) * w + win.x + win.width) * 3), y * win.width * 3);
    expect(Array.from(resampleCrop(sub, w, h, 3, plan, win))).toEqual(Array.from(resampleCrop(src, w, h, 3, plan)));
  });

  it('refuses a window that does not cover the crop, and short input', () => {
    const plan = resizeCropPlan(100, 100, { size: 32, resizeShorter: 40 });
    expect(() => resampleCrop(new Uint8Array(10 * 10 * 3), 100, 100, 3, plan, { x: 0, y: 0, width: 10, height: 10 })).toThrow(/does not cover/);
    expect(() => resampleCrop(new Uint8Array(5), 100, 100, 3, plan)).toThrow(/expected/);
  });
});
