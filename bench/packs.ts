/**
 * Species packs' latency in the app's own worker (headless Chromium, WASM,
 * 2 threads): a photo through the base model alone against the base model
 * and then a pack on the same decoded photo, for a 500 x 375 photo and a
 * 12 MP (4000 x 3000) JPEG, interleaved in rounds so a slow spell on a
 * shared machine lands on every arm alike. Wall time is what the page waits
 * for, decode to both answers. `npm run bench:packs` prints it alone;
 * `npm run bench` includes it.
 */
import './built.ts';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openApp } from '../harness/browser-runner.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { median } from '../core/stats.ts';
import type { SpeciesPack } from '../core/manifest.ts';

type Stat = { median: number; min: number; max: number; runs: number };
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });

export interface PackBench {
  threads: number;
  /** Per photo size, per arm: wall ms, and the pack's own preprocess and inference ms. */
  photos: Record<string, Record<string, { wallMs: Stat; packPreprocessMs?: Stat; packInferenceMs?: Stat; answered?: string }>>;
}

export async function packLatency(runs = 15, rounds = 3): Promise<PackBench> {
  const smallBytes = new Uint8Array(readFileSync(path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'n01534433_junco.JPEG')));
  const bigBytes = new Uint8Array(await sharp(smallBytes).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer());
  const session = await openApp({ backend: 'wasm', threads: 2 });
  try {
    const packs: SpeciesPack[] = [];
    for (const id of ['inat-birds', 'inat-insects']) packs.push(await session.page.evaluate((i) => window.__wildsight!.downloadPack(i), id));
    const arms: Record<string, { packs?: SpeciesPack[]; pack?: string }> = { base: {}, 'base + inat-birds': { packs, pack: 'inat-birds' }, 'base + inat-insects': { packs, pack: 'inat-insects' } };
    const photos = { '500 x 375': smallBytes, '12 MP (4000 x 3000)': bigBytes };
    const rows: Record<string, Record<string, Array<{ wall: number; pre?: number; inf?: number; answer?: string }>>> = {};
    const per = Math.max(1, Math.round(runs / rounds));
    // One untimed pass per arm: sessions created, caches warm.
    for (const opts of Object.values(arms))
      await session.page.evaluate(
        async ({ b64, opts }) => {
          await window.__wildsight!.classifyBytes(
            Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)),
            'warm.jpg',
            opts,
          );
        },
        { b64: Buffer.from(smallBytes).toString('base64'), opts },
      );
    for (let r = 0; r < rounds; r++) {
      for (const [label, bytes] of Object.entries(photos)) {
        for (const [arm, opts] of Object.entries(arms)) {
          const out = await session.page.evaluate(
            async ({ b64, opts, n }) => {
              const arr = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
              const got = [];
              for (let i = 0; i < n; i++) {
                const t0 = performance.now();
                const res = await window.__wildsight!.classifyBytes(arr, 'bench.jpg', opts);
                const wall = performance.now() - t0;
                if ('error' in res) throw new Error(res.error.message);
                if (opts.pack && !res.pack) throw new Error(`pack ${opts.pack} did not run: ${res.packError ?? 'no reason given'}`);
                got.push({ wall, pre: res.pack?.preprocessMs, inf: res.pack?.inferenceMs, answer: res.pack?.top5[0]?.scientificName ?? res.top5[0]?.scientificName });
              }
              return got;
            },
            { b64: Buffer.from(bytes).toString('base64'), opts, n: per },
          );
          ((rows[label] ??= {})[arm] ??= []).push(...out);
        }
      }
    }
    const result: PackBench = { threads: session.info.threads, photos: {} };
    for (const [label, byArm] of Object.entries(rows)) {
      result.photos[label] = {};
      for (const [arm, rs] of Object.entries(byArm)) {
        result.photos[label][arm] = {
          wallMs: stat(rs.map((x) => x.wall)),
          ...(rs[0].pre !== undefined ? { packPreprocessMs: stat(rs.map((x) => x.pre!)), packInferenceMs: stat(rs.map((x) => x.inf!)) } : {}),
          answered: rs[0].answer,
        };
      }
    }
    return result;
  } finally {
    await session.close();
  }
}

export function packTable(b: PackBench): string[] {
  const f = (s?: Stat) => (s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : '');
  const lines = [
    '## Species packs: base model, then a pack on the same photo (ms, app WASM ' + b.threads + ' threads)',
    '',
    '| photo | arm | end to end | pack preprocess | pack inference | with pack / base |',
    '|---|---|---|---|---|---|',
  ];
  for (const [label, arms] of Object.entries(b.photos)) {
    for (const [arm, r] of Object.entries(arms)) {
      lines.push(`| ${label} | ${arm} | ${f(r.wallMs)} | ${f(r.packPreprocessMs)} | ${f(r.packInferenceMs)} | ${arm === 'base' ? '' : `${(r.wallMs.median / arms.base.wallMs.median).toFixed(2)}x`} |`);
    }
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  const b = await packLatency(runs);
  console.log(packTable(b).join('\n'));
  console.log(JSON.stringify(b));
}
