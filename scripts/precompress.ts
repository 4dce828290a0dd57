/**
 * tsx scripts/precompress.ts DIR|FILE... — writes `.br` and `.gz` copies
 * beside every file where they are smaller (node/precompress.ts), and prints
 * what they save. `npm run build` runs it over dist/.
 */
import { statSync } from 'node:fs';
import { precompressFile, precompressTree, type PrecompressResult } from '../node/precompress.ts';

const targets = process.argv.slice(2);
if (!targets.length) {
  console.error('usage: tsx scripts/precompress.ts DIR|FILE...');
  process.exit(2);
}

const started = Date.now();
const results: PrecompressResult[] = [];
for (const t of targets) results.push(...(statSync(t).isDirectory() ? await precompressTree(t) : [await precompressFile(t)]));

const raw = results.reduce((s, r) => s + r.bytes, 0);
const best = results.reduce((s, r) => s + Math.min(r.bytes, ...r.variants.map((v) => v.bytes)), 0);
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
console.log(
  `precompressed ${results.filter((r) => r.variants.length).length} of ${results.length} files in ${targets.join(', ')}: ${mb(raw)} raw, ${mb(best)} as sent to a brotli client (${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
