/**
 * The TFLite-to-ONNX conversion is exact: on 54 photos (18 birds, 18
 * insects, 18 other animals), each converted model in onnxruntime-node and
 * onnxruntime-web gives the oracle's top-1 (the original .tflite in LiteRT.js
 * in this Chromium) on every photo, with every logit within one quantization
 * step. The two iNaturalist packs and the ImageNet reference file.
 */
import { test, expect } from '@playwright/test';
import { openOraclePage } from '../harness/litert-runner.ts';
import { checkExactness, exactnessPhotos } from '../harness/tflite-exactness.ts';
import { PACK_SOURCES } from '../node/tflite/packs.ts';

// float32 dequantization of the same uint8 value can differ from the exact product by ~1e-7 of a step
const ONE_STEP = 1 + 1e-3;

for (const src of PACK_SOURCES) {
  test(`${src.file}: converted ONNX matches LiteRT.js on every photo`, async ({ browser }) => {
    test.setTimeout(240_000);
    const photos = exactnessPhotos(18);
    expect(photos.length).toBeGreaterThanOrEqual(50);
    const oracle = await openOraclePage({ browser });
    try {
      const r = await checkExactness(oracle, src, photos);
      console.log(JSON.stringify(r));
      expect(r.photos).toBe(photos.length);
      expect(r.disagreements).toEqual([]);
      expect(r.top1AgreeNode).toBe(r.photos);
      expect(r.top1AgreeWeb).toBe(r.photos);
      expect(r.maxLogitStepsNode).toBeLessThanOrEqual(ONE_STEP);
      expect(r.maxLogitStepsWeb).toBeLessThanOrEqual(ONE_STEP);
    } finally {
      await oracle.close();
    }
  });
}
