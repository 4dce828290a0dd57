/**
 * harness/litert-runner.ts: LiteRT.js runs a real .tflite in Chromium and
 * hands back its raw output tensors (the yardstick in `npm run bench`, and
 * an oracle a converter can be checked against).
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DATA, SHARED } from './paths.ts';
import { openLiteRt, type LiteRtSession } from '../harness/litert-runner.ts';

const TFLITE = path.join(SHARED, 'models', 'inat', 'mobilenet_v2_1.0_224_quant.tflite');
const LABELS = readFileSync(path.join(SHARED, 'models', 'inat', 'imagenet_labels.txt'), 'utf8').split('\n');
const rgb = async (file: string) =>
  new Uint8Array(
    await sharp(path.join(DATA, 'imagenet-samples-animals', file))
      .resize(224, 224, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer(),
  );
const top1 = (bytes: Uint8Array) => bytes.reduce((best, v, i) => (v > bytes[best] ? i : best), 0);

test.describe('LiteRT.js runner', () => {
  let lrt: LiteRtSession;
  test.beforeAll(async () => {
    lrt = await openLiteRt({ threads: true });
  });
  test.afterAll(async () => {
    await lrt?.close();
  });

  test('runs the ImageNet MobileNetV2 .tflite with XNNPACK on 1 and 2 threads and returns its raw uint8 softmax', async () => {
    expect(lrt.runtime.crossOriginIsolated).toBe(true);
    expect(lrt.runtime.wasmFile).toBe('litert_wasm_threaded_internal.wasm');
    const one = await lrt.compile(TFLITE, { numThreads: 1 });
    expect(one.inputs).toEqual([{ name: 'input', index: 0, dtype: 'uint8', shape: [1, 224, 224, 3] }]);
    expect(one.outputs.map((o) => [o.dtype, o.shape])).toEqual([['uint8', [1, 1001]]]);
    const two = await lrt.compile(readFileSync(TFLITE), { numThreads: 2 });
    for (const [file, label] of [
      ['n01443537_goldfish.JPEG', 'goldfish, Carassius auratus'],
      ['n01440764_tench.JPEG', 'tench, Tinca tinca'],
    ]) {
      const input = await rgb(file);
      const a = await lrt.run(one, [input], 3);
      expect(a.timingsMs).toHaveLength(3);
      expect(a.outputs).toHaveLength(1);
      expect(a.outputs[0].bytes).toHaveLength(1001);
      expect(LABELS[top1(a.outputs[0].bytes)]).toBe(label);
      // The softmax is scaled by 1/256: the 1001 probabilities add up to about 1.
      const sum = a.outputs[0].bytes.reduce((s, v) => s + v, 0) / 256;
      expect(sum).toBeGreaterThan(0.9);
      expect(sum).toBeLessThan(1.1);
      // Integer kernels: the thread count does not change a single byte.
      const b = await lrt.run(two, [input], 1);
      expect(Buffer.from(b.outputs[0].bytes).equals(Buffer.from(a.outputs[0].bytes))).toBe(true);
    }
  });

  test('a damaged model or a wrong input is refused with a message, and the runner goes on', async () => {
    const bytes = readFileSync(TFLITE);
    await expect(lrt.compile(bytes.subarray(0, 1000))).rejects.toThrow(/LiteRT.js could not compile the model \(1000 bytes\): \S/);
    const good = await lrt.compile(TFLITE);
    await expect(lrt.run(good, [])).rejects.toThrow(/takes 1 inputs, got 0/);
    const out = await lrt.run(good, [await rgb('n01443537_goldfish.JPEG')]);
    expect(LABELS[top1(out.outputs[0].bytes)]).toBe('goldfish, Carassius auratus');
  });
});

test('without threads LiteRT.js loads its single-threaded WASM build', async () => {
  const lrt = await openLiteRt({ threads: false });
  try {
    expect(lrt.runtime.wasmFile).toBe('litert_wasm_internal.wasm');
    const m = await lrt.compile(TFLITE);
    const out = await lrt.run(m, [await rgb('n01440764_tench.JPEG')]);
    expect(LABELS[top1(out.outputs[0].bytes)]).toBe('tench, Tinca tinca');
  } finally {
    await lrt.close();
  }
});
