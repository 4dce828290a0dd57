/**
 * Is the TFLite-to-ONNX conversion exact? For one .tflite: the same 224x224
 * RGB bytes go to the original in LiteRT.js (the oracle) and, as float NCHW,
 * to the converted ONNX in onnxruntime-node and onnxruntime-web; the report
 * says how often top-1 agrees and the largest logit and embedding
 * differences in quantization steps of the TFLite tensors.
 * Shared by e2e/tflite-exactness.spec.ts and bench/tflite-exactness.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { parseCsv } from '../core/csv.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { exposeTensors } from '../node/tflite/read.ts';
import { convertTflite } from '../node/tflite/to-onnx.ts';
import { INAT_DIR, type PackSource } from '../node/tflite/packs.ts';
import type { OraclePage } from './litert-runner.ts';

export const SIZE = 224;

export interface ExactnessReport {
  id: string;
  file: string;
  photos: number;
  top1AgreeNode: number;
  top1AgreeWeb: number;
  /** Largest |ONNX logit - TFLite logit| over all photos and classes, in steps of the logits' TFLite scale. */
  maxLogitStepsNode: number;
  maxLogitStepsWeb: number;
  maxEmbeddingStepsNode: number;
  maxEmbeddingStepsWeb: number;
  /** Photos where a top-1 differed: file, oracle class, node class, web class. */
  disagreements: { file: string; oracle: number; node: number; web: number }[];
}

/**
 * The photos the check uses: from imagenet-val-animals (the set kept for
 * evaluation, so nothing was tuned on it), `perGroup` each of birds, insects
 * and other animals, in file order, so the packs see their own kind too.
 */
export function exactnessPhotos(perGroup = 18): string[] {
  const dir = path.join(DATA_DIR_SHARED, 'imagenet-val-animals');
  const rows = parseCsv(readFileSync(path.join(dir, 'labels.csv'), 'utf8'));
  const bird = (i: number) => (i >= 7 && i <= 24) || (i >= 80 && i <= 100) || (i >= 127 && i <= 146);
  const insect = (i: number) => i >= 300 && i <= 326;
  const groups: Record<string, string[]> = { bird: [], insect: [], other: [] };
  for (const r of rows) {
    const i = Number(r.imagenet_index);
    groups[bird(i) ? 'bird' : insect(i) ? 'insect' : 'other'].push(path.join(dir, r.file));
  }
  for (const [k, files] of Object.entries(groups)) if (files.length < perGroup) throw new Error(`imagenet-val-animals has ${files.length} ${k} photos, the check needs ${perGroup}`);
  return Object.values(groups).flatMap((files) => files.slice(0, perGroup));
}

/** A photo as the 224x224 RGB bytes both engines get (resize to cover, centre crop). */
export async function photoRgb(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).rotate().resize(SIZE, SIZE, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== SIZE * SIZE * 3) throw new Error(`${file}: decoded to ${info.width}x${info.height}x${info.channels}`);
  return new Uint8Array(data);
}

/** NHWC uint8 -> NCHW float32 holding the same values: the converted model's `input`. */
export function toNchwFloat(rgb: Uint8Array): Float32Array {
  const plane = SIZE * SIZE;
  const x = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) x[c * plane + i] = rgb[i * 3 + c];
  return x;
}

const argmax = (a: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
};

function maxSteps(q: Uint8Array, zp: number, scale: number, f: Float32Array): number {
  if (q.length !== f.length) throw new Error(`output sizes differ: TFLite ${q.length}, ONNX ${f.length}`);
  let m = 0;
  for (let i = 0; i < q.length; i++) m = Math.max(m, Math.abs((q[i] - zp) * scale - f[i]) / scale);
  return m;
}

export async function checkExactness(oracle: OraclePage, src: PackSource, photos: string[], onPhoto?: () => void): Promise<ExactnessReport> {
  const tflite = readFileSync(path.join(INAT_DIR, src.file));
  const { onnx, info } = convertTflite(tflite, { name: src.id });
  const t = info.tfliteTensors;
  oracle.addModel(`${src.id}.tflite`, exposeTensors(tflite, [t.logits, t.embedding]));
  oracle.addModel(`${src.id}.onnx`, onnx);
  const names = await oracle.loadTflite(`${src.id}.tflite`);
  for (const n of [t.logitsName, t.embeddingName]) if (!names.includes(n)) throw new Error(`LiteRT.js did not return ${n} (outputs: ${names.join(', ')})`);
  await oracle.loadOnnx(`${src.id}.onnx`);
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  const lq = info.logitsQuantization,
    eq = info.embeddingQuantization;
  const report: ExactnessReport = {
    id: src.id,
    file: src.file,
    photos: 0,
    top1AgreeNode: 0,
    top1AgreeWeb: 0,
    maxLogitStepsNode: 0,
    maxLogitStepsWeb: 0,
    maxEmbeddingStepsNode: 0,
    maxEmbeddingStepsWeb: 0,
    disagreements: [],
  };
  try {
    for (const file of photos) {
      const rgb = await photoRgb(file);
      const x = toNchwFloat(rgb);
      const shape = [1, 3, SIZE, SIZE];
      const want = await oracle.runTflite(`${src.id}.tflite`, rgb, [1, SIZE, SIZE, 3]);
      const web = await oracle.runOnnx(`${src.id}.onnx`, x, shape);
      const node = await session.run({ input: new ort.Tensor('float32', x, shape) });
      const nodeLogits = node.logits.data as Float32Array,
        nodeEmb = node.embedding.data as Float32Array;
      const oracleTop = argmax(want[t.logitsName]);
      const nodeTop = argmax(nodeLogits),
        webTop = argmax(web.logits);
      report.photos++;
      if (nodeTop === oracleTop) report.top1AgreeNode++;
      if (webTop === oracleTop) report.top1AgreeWeb++;
      if (nodeTop !== oracleTop || webTop !== oracleTop) report.disagreements.push({ file: path.basename(file), oracle: oracleTop, node: nodeTop, web: webTop });
      report.maxLogitStepsNode = Math.max(report.maxLogitStepsNode, maxSteps(want[t.logitsName], lq.zeroPoint, lq.scale, nodeLogits));
      report.maxLogitStepsWeb = Math.max(report.maxLogitStepsWeb, maxSteps(want[t.logitsName], lq.zeroPoint, lq.scale, web.logits));
      report.maxEmbeddingStepsNode = Math.max(report.maxEmbeddingStepsNode, maxSteps(want[t.embeddingName], eq.zeroPoint, eq.scale, nodeEmb));
      report.maxEmbeddingStepsWeb = Math.max(report.maxEmbeddingStepsWeb, maxSteps(want[t.embeddingName], eq.zeroPoint, eq.scale, web.embedding));
      onPhoto?.();
    }
  } finally {
    await session.release();
  }
  return report;
}
