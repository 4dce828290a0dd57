/**
 * The float-activation formats of the shipped model (node/float-graph.ts via
 * node/model-formats.ts) on the real 1.0.0 graph and real photos: each
 * loads in onnxruntime-node, keeps the model contract, and gives the
 * shipped graph's top-1 answer on most photos.
 *
 * Why "most" and not all: the shipped graph rounds every activation to 8
 * bits; the float formats do not, so a photo whose two best classes are
 * close can flip. The QDQ float-kernel experiment (bench:format) moved eval
 * top-1 by about one point, so we require agreement on at least 95% of the
 * photos; a wrong rewrite (a lost ReLU6, a bias off by its scale, weights on
 * the wrong axis) drops agreement far below that.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeModel, graphOf } from './onnx-graph.ts';
import { deriveFormat, FORMATS } from './model-formats.ts';
import { toFloatActivations } from './float-graph.ts';
import { onnxContractProblems } from './onnx-contract.ts';
import { findVersion } from '../core/manifest.ts';
import { loadTaxonIndex, loadTaxonomy, modelFile, readManifest } from './registry.ts';
import { NodeClassifier } from './node-classifier.ts';
import { readLabelledPhotos } from './labelled-photos.ts';
import { DATA_DIR_SHARED } from './paths.ts';

const manifest = readManifest();
const shipped = manifest?.versions.find((v) => v.version === '1.0.0');
const ready = !!shipped && existsSync(modelFile(shipped));
/** Kept apart from the evaluation set (imagenet-val-animals), like the abstain calibration. */
const PHOTOS_DIR = path.join(DATA_DIR_SHARED, 'imagenet-samples-animals');
const PHOTOS = 160;
const MIN_AGREEMENT = 0.95;

const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));

describe.runIf(ready)('float-activation formats of 1.0.0', () => {
  it('rewrites every quantized op and keeps only float ones', () => {
    const base = new Uint8Array(readFileSync(modelFile(shipped!)));
    for (const storage of ['int8', 'int8-cast', 'fp16', 'fp32'] as const) {
      const model = decodeModel(base);
      const report = toFloatActivations(model, storage);
      expect(report.rewritten).toMatchObject({ QLinearConv: 52, QLinearAdd: 11, QLinearGlobalAveragePool: 1, QLinearMatMul: 1, QuantizeLinear: 1 });
      // 35 of the 52 convolutions had a ReLU6 folded into their output range.
      expect(report.clipped).toBe(35);
      const ops = graphOf(model).node.map((n) => n.opType!);
      expect(ops.filter((op) => op.startsWith('QLinear') || op === 'QuantizeLinear')).toEqual([]);
      const dq = ops.filter((op) => op === 'DequantizeLinear').length;
      const casts = ops.filter((op) => op === 'Cast').length;
      expect({ storage, dq, casts }).toEqual({ storage, dq: storage === 'int8' ? 53 : 0, casts: storage === 'fp16' || storage === 'int8-cast' ? 53 : 0 });
    }
  });

  it('each loads, keeps the contract and agrees with the shipped top-1 on most real photos', async () => {
    const base = new Uint8Array(readFileSync(modelFile(shipped!)));
    const taxa = loadTaxonIndex();
    const photos = readLabelledPhotos(PHOTOS_DIR, path.join(PHOTOS_DIR, 'labels.csv'), loadTaxonomy());
    const reference = await NodeClassifier.fromBytes(shipped!, base, taxa, 2);
    const tensors: Float32Array[] = [];
    for (const p of photos) {
      if (tensors.length === PHOTOS) break;
      // A few samples are under the app's 64 px minimum; the app refuses them too.
      try {
        tensors.push(await reference.tensorFor(new Uint8Array(readFileSync(p.file)), p.file));
      } catch {
        /* skipped */
      }
    }
    expect(tensors.length).toBe(PHOTOS);
    const answers = async (c: NodeClassifier) => {
      const out: number[] = [];
      for (const t of tensors) out.push(argmax((await c.run(t, 1)).logits[0]));
      return out;
    };
    const expected = await answers(reference);
    await reference.release();
    const agreement: Record<string, number> = {};
    for (const { format } of FORMATS.filter((f) => f.storage)) {
      const bytes = deriveFormat(base, format, '1.0.2');
      expect(onnxContractProblems(bytes, findVersion(manifest!, '1.0.0'))).toEqual([]);
      const c = await NodeClassifier.fromBytes(shipped!, bytes, taxa, 2);
      const got = await answers(c);
      await c.release();
      agreement[format] = got.filter((a, i) => a === expected[i]).length / PHOTOS;
    }
    console.log(`top-1 agreement with the shipped graph on ${PHOTOS} photos: ${JSON.stringify(agreement)}`);
    for (const [format, a] of Object.entries(agreement)) expect(a, format).toBeGreaterThanOrEqual(MIN_AGREEMENT);
  }, 300_000);

  it('refuses an op it has no rewrite for', () => {
    const model = decodeModel(new Uint8Array(readFileSync(modelFile(shipped!))));
    graphOf(model).node.push({ opType: 'ConvInteger', input: ['input'], output: ['x'], attribute: [] });
    expect(() => toFloatActivations(model, 'fp32')).toThrow(/ConvInteger has no float rewrite/);
  });
});
