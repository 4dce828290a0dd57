/**
 * Photos -> (embedding, logits) through the current backbone with
 * onnxruntime-node, cached on disk by photo sha256 + model sha256 so a photo
 * is only ever run once per model (.cache/embeddings/<model sha>/<photo sha>.f32).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../node/registry.ts';
import { REPO_ROOT } from '../node/paths.ts';

/** What embeds photos: a model version's NodeClassifier, or a species pack (pipeline/pack-data.ts adapts node/pack-classifier's). */
export interface Embedder {
  model: { sha256: string; labels: readonly string[]; input: { size: number }; outputs: { embeddingSize?: number } };
  tensorFor(bytes: Uint8Array, name?: string): Promise<Float32Array>;
  run(batch: Float32Array, n: number): Promise<{ logits: Float32Array[]; embeddings: Float32Array[] }>;
}

export const EMBEDDING_CACHE_DIR = path.resolve(process.env.WILDSIGHT_EMBEDDING_CACHE ?? path.join(REPO_ROOT, '.cache', 'embeddings'));

export interface PhotoFeatures {
  file: string;
  photoSha256: string;
  embedding: Float32Array;
  /** The model's own logits (launch taxa then "other"). */
  logits: Float32Array;
}

export interface EmbedStats {
  cached: number;
  computed: number;
  failed: string[];
}

export async function embedPhotos(
  classifier: Embedder,
  files: readonly string[],
  opts: { cacheDir?: string; batch?: number; onProgress?: (done: number) => void } = {},
): Promise<{ features: Map<string, PhotoFeatures>; stats: EmbedStats }> {
  const modelSha = classifier.model.sha256;
  const dir = path.join(opts.cacheDir ?? EMBEDDING_CACHE_DIR, modelSha);
  mkdirSync(dir, { recursive: true });
  const E = classifier.model.outputs.embeddingSize;
  if (!E) throw new Error('the model names no embedding size: nothing to cache');
  const L = classifier.model.labels.length;
  const features = new Map<string, PhotoFeatures>();
  const stats: EmbedStats = { cached: 0, computed: 0, failed: [] };
  const pending: Array<{ file: string; sha: string; tensor: Float32Array }> = [];
  const batch = opts.batch ?? 8;
  let done = 0;
  const flush = async () => {
    if (!pending.length) return;
    const size = classifier.model.input.size;
    const stacked = new Float32Array(pending.length * 3 * size * size);
    pending.forEach((p, i) => stacked.set(p.tensor, i * p.tensor.length));
    const { logits, embeddings } = await classifier.run(stacked, pending.length);
    pending.forEach((p, i) => {
      const rec = new Float32Array(E + L);
      rec.set(embeddings[i], 0);
      rec.set(logits[i], E);
      const target = path.join(dir, `${p.sha}.f32`);
      writeFileSync(`${target}.tmp`, new Uint8Array(rec.buffer));
      renameSync(`${target}.tmp`, target);
      features.set(p.file, { file: p.file, photoSha256: p.sha, embedding: embeddings[i], logits: logits[i] });
      stats.computed++;
      opts.onProgress?.(++done);
    });
    pending.length = 0;
  };
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    const sha = sha256(bytes);
    const cached = path.join(dir, `${sha}.f32`);
    if (existsSync(cached)) {
      const buf = readFileSync(cached);
      const rec = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      if (rec.length === E + L) {
        features.set(file, { file, photoSha256: sha, embedding: rec.slice(0, E), logits: rec.slice(E) });
        stats.cached++;
        opts.onProgress?.(++done);
        continue;
      }
    }
    try {
      pending.push({ file, sha, tensor: await classifier.tensorFor(bytes, path.basename(file)) });
    } catch (err) {
      stats.failed.push(`${file}: ${(err as Error).message}`);
      opts.onProgress?.(++done);
    }
    if (pending.length >= batch) await flush();
  }
  await flush();
  return { features, stats };
}
