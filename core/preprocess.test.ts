import { describe, expect, it } from 'vitest';
import { IMAGENET_INPUT, pixelsToTensor, resizeCropPlan, type InputSpec } from './preprocess.ts';

/** Element-wise closeness, with the index in the failure message. */
function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(actual[i], `index ${i}`).toBeCloseTo(expected[i], digits);
  }
}

describe('resizeCropPlan (ImageNet 256 -> 224 centre crop)', () => {
  const spec = IMAGENET_INPUT;

  it('landscape 4000x3000: shorter side to 256, longer 4000*256/3000 = 341.33 -> 341', () => {
    // crop x = round((341 - 224) / 2) = round(58.5) = 59; y = (256 - 224) / 2 = 16
    expect(resizeCropPlan(4000, 3000, spec)).toEqual({
      resizedWidth: 341,
      resizedHeight: 256,
      crop: { x: 59, y: 16, width: 224, height: 224 },
    });
  });

  it('landscape 2:1 (800x400) -> 512x256, crop at x = (512 - 224) / 2 = 144', () => {
    expect(resizeCropPlan(800, 400, spec)).toEqual({
      resizedWidth: 512,
      resizedHeight: 256,
      crop: { x: 144, y: 16, width: 224, height: 224 },
    });
  });

  it('portrait 3000x4000 is the transpose of the landscape case', () => {
    expect(resizeCropPlan(3000, 4000, spec)).toEqual({
      resizedWidth: 256,
      resizedHeight: 341,
      crop: { x: 16, y: 59, width: 224, height: 224 },
    });
  });

  it('square 1000x1000 -> 256x256 with the crop 16 px in from every edge', () => {
    expect(resizeCropPlan(1000, 1000, spec)).toEqual({
      resizedWidth: 256,
      resizedHeight: 256,
      crop: { x: 16, y: 16, width: 224, height: 224 },
    });
  });

  it('tiny images are upscaled so the short side still becomes 256', () => {
    // 100x50: k = 256 / 50 = 5.12 -> 512 x 256
    expect(resizeCropPlan(100, 50, spec)).toEqual({
      resizedWidth: 512,
      resizedHeight: 256,
      crop: { x: 144, y: 16, width: 224, height: 224 },
    });
    // 1x1 -> 256x256
    expect(resizeCropPlan(1, 1, spec)).toEqual({
      resizedWidth: 256,
      resizedHeight: 256,
      crop: { x: 16, y: 16, width: 224, height: 224 },
    });
    // 64x48 (4:3): 64 * 256 / 48 = 341.33 -> 341
    expect(resizeCropPlan(64, 48, spec).resizedWidth).toBe(341);
    expect(resizeCropPlan(64, 48, spec).resizedHeight).toBe(256);
  });

  it('odd sizes round to whole pixels: 333x501', () => {
    // 501 * 256 / 333 = 128256 / 333 = 385.15 -> 385; crop y = round((385 - 224) / 2) = round(80.5) = 81
    expect(resizeCropPlan(333, 501, spec)).toEqual({
      resizedWidth: 256,
      resizedHeight: 385,
      crop: { x: 16, y: 81, width: 224, height: 224 },
    });
  });

  it('odd sizes: 227x227 (the squashed ImageNet val photos) and 257x255', () => {
    expect(resizeCropPlan(227, 227, spec)).toEqual({
      resizedWidth: 256,
      resizedHeight: 256,
      crop: { x: 16, y: 16, width: 224, height: 224 },
    });
    // 257 * 256 / 255 = 65792 / 255 = 258.0039 -> 258; crop x = round(34 / 2) = 17
    expect(resizeCropPlan(257, 255, spec)).toEqual({
      resizedWidth: 258,
      resizedHeight: 256,
      crop: { x: 17, y: 16, width: 224, height: 224 },
    });
  });

  it('panorama 10000x100: 10000 * 2.56 = 25600 wide, crop x = (25600 - 224) / 2 = 12688', () => {
    expect(resizeCropPlan(10000, 100, spec)).toEqual({
      resizedWidth: 25600,
      resizedHeight: 256,
      crop: { x: 12688, y: 16, width: 224, height: 224 },
    });
  });

  it('for many sizes: short side is exactly 256, crop inside the image and centred within a pixel', () => {
    const sizes: Array<[number, number]> = [
      [4032, 3024],
      [3024, 4032],
      [1920, 1080],
      [1080, 1920],
      [641, 479],
      [299, 299],
      [255, 256],
      [7, 13],
      [65, 64],
      [5000, 257],
    ];
    for (const [w, h] of sizes) {
      const plan = resizeCropPlan(w, h, spec);
      const tag = `${w}x${h}`;
      expect(Math.min(plan.resizedWidth, plan.resizedHeight), tag).toBe(256);
      // aspect ratio kept to within rounding of one pixel
      expect(Math.abs(plan.resizedWidth / plan.resizedHeight - w / h) * Math.min(plan.resizedWidth, plan.resizedHeight), tag).toBeLessThanOrEqual(1);
      const { x, y, width, height } = plan.crop;
      expect([width, height], tag).toEqual([224, 224]);
      expect(x, tag).toBeGreaterThanOrEqual(0);
      expect(y, tag).toBeGreaterThanOrEqual(0);
      expect(x + width, tag).toBeLessThanOrEqual(plan.resizedWidth);
      expect(y + height, tag).toBeLessThanOrEqual(plan.resizedHeight);
      const left = x;
      const right = plan.resizedWidth - x - width;
      const top = y;
      const bottom = plan.resizedHeight - y - height;
      expect(Math.abs(left - right), tag).toBeLessThanOrEqual(1);
      expect(Math.abs(top - bottom), tag).toBeLessThanOrEqual(1);
      expect(Number.isInteger(x) && Number.isInteger(y), tag).toBe(true);
    }
  });

  it('never plans a crop larger than the resized image, even when resizeShorter < size', () => {
    // 400x300 with shorter side to 200 would be 267x200, smaller than the 224 crop: both sides clamp up to 224.
    // 400 * 200 / 300 = 266.67 -> 267; crop x = round((267 - 224) / 2) = round(21.5) = 22
    expect(resizeCropPlan(400, 300, { size: 224, resizeShorter: 200 })).toEqual({
      resizedWidth: 267,
      resizedHeight: 224,
      crop: { x: 22, y: 0, width: 224, height: 224 },
    });
  });

  it('uses the spec, not ImageNet constants: size 2, resizeShorter 4 on a 6x3 image -> 8x4, crop at (3, 1)', () => {
    expect(resizeCropPlan(6, 3, { size: 2, resizeShorter: 4 })).toEqual({
      resizedWidth: 8,
      resizedHeight: 4,
      crop: { x: 3, y: 1, width: 2, height: 2 },
    });
  });

  it('rejects non-positive and non-numeric sizes with a RangeError', () => {
    expect(() => resizeCropPlan(0, 100, spec)).toThrow(RangeError);
    expect(() => resizeCropPlan(100, 0, spec)).toThrow(RangeError);
    expect(() => resizeCropPlan(-5, 100, spec)).toThrow(/must be positive, got -5x100/);
    expect(() => resizeCropPlan(Number.NaN, 100, spec)).toThrow(RangeError);
  });
});

describe('pixelsToTensor', () => {
  // value = (pixel * scale - mean) / std, with numbers chosen so every result is exact:
  // R: (p * 0.5 - 1) / 2, G: (p * 0.5 - 2) / 4, B: (p * 0.5 - 3) / 0.5
  const tiny: InputSpec = {
    size: 2,
    resizeShorter: 2,
    crop: 'center',
    mean: [1, 2, 3],
    std: [2, 4, 0.5],
    layout: 'NCHW',
    channels: 'RGB',
    scale: 0.5,
  };
  // Pixels in row-major order: (x0,y0), (x1,y0), (x0,y1), (x1,y1)
  const rgb = [
    2,
    4,
    6, //   R (1-1)/2 = 0     G (2-2)/4 = 0      B (3-3)/0.5 = 0
    10,
    0,
    8, //  R (5-1)/2 = 2     G (0-2)/4 = -0.5   B (4-3)/0.5 = 2
    0,
    20,
    0, //  R (0-1)/2 = -0.5  G (10-2)/4 = 2     B (0-3)/0.5 = -6
    6,
    12,
    7, //  R (3-1)/2 = 1     G (6-2)/4 = 1      B (3.5-3)/0.5 = 1
  ];
  // Planar NCHW: all of R, then all of G, then all of B.
  const expected = [
    0,
    2,
    -0.5,
    1, // R plane
    0,
    -0.5,
    2,
    1, // G plane
    0,
    2,
    -6,
    1, //   B plane
  ];

  it('converts packed RGB to a planar, normalized tensor (hand-computed)', () => {
    const out = pixelsToTensor(rgb, tiny, 3);
    expect(out).toBeInstanceOf(Float32Array);
    expectClose(out, expected, 6);
  });

  it('converts RGBA (canvas data) the same way and ignores alpha', () => {
    const alphas = [255, 0, 128, 77];
    const rgba: number[] = [];
    for (let i = 0; i < 4; i++) rgba.push(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], alphas[i]);
    expectClose(pixelsToTensor(new Uint8ClampedArray(rgba), tiny, 4), expected, 6);
  });

  it('lays the planes out as out[c*size*size + y*size + x]', () => {
    // A 2x2 image where each value encodes its own position: R = 10*y + x, G = 100 + that, B = 200 + that
    const identity: InputSpec = { ...tiny, mean: [0, 0, 0], std: [1, 1, 1], scale: 1 };
    const px: number[] = [];
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) px.push(10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x);
    const out = pixelsToTensor(px, identity, 3);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 2; x++) expect(out[c * 4 + y * 2 + x]).toBe(100 * c + 10 * y + x);
      }
    }
  });

  it('applies the ImageNet mean/std/scale: white and black pixels', () => {
    const spec1: InputSpec = { ...IMAGENET_INPUT, size: 1 };
    // white: (1 - 0.485)/0.229 = 2.24891, (1 - 0.456)/0.224 = 2.42857 (= 17/7), (1 - 0.406)/0.225 = 2.64
    expectClose(pixelsToTensor([255, 255, 255], spec1, 3), [2.24891, 2.42857, 2.64], 4);
    // black: -0.485/0.229 = -2.11790, -0.456/0.224 = -2.03571 (= -57/28), -0.406/0.225 = -1.80444
    expectClose(pixelsToTensor([0, 0, 0], spec1, 3), [-2.1179, -2.03571, -1.80444], 4);
  });

  it('allocates a 3*size*size output by default', () => {
    expect(pixelsToTensor(new Uint8Array(224 * 224 * 4), IMAGENET_INPUT, 4).length).toBe(3 * 224 * 224);
  });

  it('writes one image at an offset into a batch tensor and leaves the rest alone', () => {
    const batch = new Float32Array(2 * 12).fill(99);
    const returned = pixelsToTensor(rgb, tiny, 3, batch, 12);
    expect(returned).toBe(batch);
    expect(Array.from(batch.subarray(0, 12))).toEqual(new Array(12).fill(99));
    expectClose(batch.subarray(12), expected, 6);

    // and the first slot can be filled independently
    const black = new Array(12).fill(0);
    pixelsToTensor(black, tiny, 3, batch, 0);
    // black: R (0-1)/2 = -0.5, G (0-2)/4 = -0.5, B (0-3)/0.5 = -6
    expectClose(batch.subarray(0, 12), [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -6, -6, -6, -6], 6);
    expectClose(batch.subarray(12), expected, 6);
  });

  it('throws a RangeError when the pixel count does not match size and channels', () => {
    expect(() => pixelsToTensor(rgb.slice(0, 11), tiny, 3)).toThrow(RangeError);
    expect(() => pixelsToTensor(rgb.slice(0, 11), tiny, 3)).toThrow('expected 12 values for a 2x2 image with 3 channels, got 11');
    // 12 values are RGB-sized, not RGBA-sized
    expect(() => pixelsToTensor(rgb, tiny, 4)).toThrow('expected 16 values for a 2x2 image with 4 channels, got 12');
    expect(() => pixelsToTensor([...rgb, 0], tiny, 3)).toThrow(RangeError);
  });

  it('throws a RangeError when the output tensor is too small for the offset', () => {
    expect(() => pixelsToTensor(rgb, tiny, 3, new Float32Array(11))).toThrow('output tensor too small');
    expect(() => pixelsToTensor(rgb, tiny, 3, new Float32Array(24), 13)).toThrow(RangeError);
    // exactly enough room is fine
    expect(() => pixelsToTensor(rgb, tiny, 3, new Float32Array(24), 12)).not.toThrow();
  });
});

describe('resizeCropPlan, crop "full" (the species packs)', () => {
  it('squashes the whole photo to size x size, aspect not kept', () => {
    const full = { size: 224, resizeShorter: 224, crop: 'full' as const };
    expect(resizeCropPlan(4000, 3000, full)).toEqual({ resizedWidth: 224, resizedHeight: 224, crop: { x: 0, y: 0, width: 224, height: 224 } });
    expect(resizeCropPlan(100, 50, full)).toEqual({ resizedWidth: 224, resizedHeight: 224, crop: { x: 0, y: 0, width: 224, height: 224 } });
    // The centre crop is unchanged by the option.
    expect(resizeCropPlan(4000, 3000, { ...full, crop: 'center' }).crop).toEqual({ x: 38, y: 0, width: 224, height: 224 });
  });
});
