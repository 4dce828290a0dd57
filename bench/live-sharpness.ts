/**
 * Where the live camera's "Hold steady" threshold comes from: the sharpness
 * (core/sharpness.ts, measured at 160 px as the worker does) of 60
 * imagenet-val-animals photos framed as a 480x360 camera would, sharp and
 * blurred at camera resolution with a Gaussian of sigma 1, 2 and 4 px (a
 * shaking hand). Prints the 10th, 50th and 90th percentiles of each.
 *   npx tsx bench/live-sharpness.ts
 */
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sharpness } from '../core/sharpness.ts';
import { DEFAULT_HINTS } from '../core/live-smoothing.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';

async function main() {
  const dir = path.join(DATA_DIR_SHARED, 'imagenet-val-animals');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.JPEG'))
    .sort()
    .slice(0, 60);
  const sigmas = [0, 1, 2, 4];
  const out = new Map<number, number[]>(sigmas.map((s) => [s, []]));
  for (const f of files) {
    const framed = await sharp(path.join(dir, f)).rotate().resize(480, 360, { fit: 'cover' }).toBuffer();
    for (const sigma of sigmas) {
      const blurred = sigma ? await sharp(framed).blur(sigma).toBuffer() : framed;
      const { data, info } = await sharp(blurred).resize(160, 120, { kernel: 'linear' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      out.get(sigma)!.push(sharpness(data, info.width, info.height, 3));
    }
  }
  const pct = (v: number[], p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  console.log(`sharpness of ${files.length} photos as 480x360 frames, measured at 160x120 (threshold for "Hold steady": ${DEFAULT_HINTS.minSharpness})`);
  for (const [sigma, v] of out) {
    v.sort((a, b) => a - b);
    const under = v.filter((x) => x < DEFAULT_HINTS.minSharpness).length;
    console.log(`${sigma ? `blur sigma ${sigma} px` : 'sharp'}\tp10 ${pct(v, 0.1).toFixed(0)}\tmedian ${pct(v, 0.5).toFixed(0)}\tp90 ${pct(v, 0.9).toFixed(0)}\tunder threshold ${under}/${v.length}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
