/**
 * The bird pack's classifier read as floats reproduces the converted graph's logits within one of their
 * quantization steps on real bird photos; the export with a float head keeps input, outputs and embedding,
 * computes exactly the head's math, and is refused by the check when it computes anything else.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Head } from '../core/head-train.ts';
import { NodePack, findPack } from '../node/pack-classifier.ts';
import { readPackInfo, packsDir } from '../node/tflite/packs.ts';
import { DATA_DIR_SHARED, REGISTRY_DIR } from '../node/paths.ts';
import { headLogits } from './base-head.ts';
import { exportPackWithHead, packFloatHead } from './pack-head.ts';
import { checkPackExport } from './pack-export.ts';

const ready = existsSync(path.join(REGISTRY_DIR, 'packs', 'inat-birds', 'model.onnx'));
const PHOTOS = ['n01530575_brambling.JPEG', 'n01531178_goldfinch.JPEG', 'n01532829_house_finch.JPEG'].map((f) => path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', f));

describe.runIf(ready)('a pack head as floats', () => {
  const pack = ready ? findPack('inat-birds') : null!;
  const bytes = ready ? new Uint8Array(readFileSync(path.join(REGISTRY_DIR, pack.file))) : new Uint8Array();

  async function run(version?: string) {
    const p = await NodePack.load('inat-birds', version ? { version } : {});
    const n = PHOTOS.length,
      s = pack.input.size;
    const x = new Float32Array(n * 3 * s * s);
    for (const [i, f] of PHOTOS.entries()) x.set(await p.tensorFor(new Uint8Array(readFileSync(f))), i * 3 * s * s);
    const out = await p.runBatch(x, n);
    await p.release();
    return { x, n, ...out };
  }

  it('reproduces the converted logits within one output step, and the same top-1', async () => {
    const head = packFloatHead(bytes);
    expect([head.classes, head.dim]).toEqual([965, 1280]);
    const step = readPackInfo('inat-birds', packsDir()).logitsQuantization.scale;
    const { logits, embeddings } = await run();
    for (let i = 0; i < PHOTOS.length; i++) {
      const f = headLogits(head, embeddings[i]);
      let max = 0;
      for (let k = 0; k < f.length; k++) max = Math.max(max, Math.abs(f[k] - logits[i][k]));
      expect(max).toBeLessThanOrEqual(step * 1.01);
      expect(f.indexOf(Math.max(...f))).toBe(logits[i].indexOf(Math.max(...logits[i])));
    }
  });

  it('exports the parent graph with a float head: same interface and embedding, logits = the head math; reads the head back', async () => {
    const head = packFloatHead(bytes);
    // A changed head, so an export that ignored it would show.
    const changed: Head = { ...head, weights: head.weights.map((w, p) => w * (1 + ((p % 7) - 3) * 0.01)), bias: head.bias.map((b) => b + 0.5) };
    const out = exportPackWithHead(bytes, changed, { logits: 'logits', embedding: 'embedding', version: '1.0.1', note: 'test' });
    const { x, n } = await run();
    const check = await checkPackExport(out, bytes, pack, changed, x, n);
    expect(check.maxAbsDiffEmbedding).toBe(0);
    expect(check.maxAbsDiffFloatHead).toBeLessThan(1e-3);
    const back = packFloatHead(out);
    expect(back.weights).toEqual(changed.weights);
    expect(back.bias).toEqual(changed.bias);
    // The check refuses an export that computes another head than the one it is told of.
    await expect(checkPackExport(out, bytes, pack, head, x, n)).rejects.toThrow(/disagrees: logits vs float head/);
    // Exporting from an earlier export replaces its float head.
    const again = exportPackWithHead(out, head, { logits: 'logits', embedding: 'embedding', version: '1.0.2', note: 'test' });
    expect((await checkPackExport(again, bytes, pack, head, x, n)).maxAbsDiffFloatHead).toBeLessThan(1e-3);
  });

  it('refuses a graph that is not a converted pack', () => {
    const base = new Uint8Array(readFileSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx')));
    expect(() => packFloatHead(base)).toThrow(/pack/);
  });
});
