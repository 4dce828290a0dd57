/** Checks the read-only ../shared inputs against their SHA256SUMS before anything is built from them. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from './registry.ts';

export class AssetError extends Error {}

/** Verifies `files` in `dir` against dir/SHA256SUMS; throws naming each missing or altered file and where it was looked for. */
export function verifyAssets(dir: string, files: string[]): void {
  const sumsFile = path.join(dir, 'SHA256SUMS');
  if (!existsSync(sumsFile)) throw new AssetError(`missing ${sumsFile}: cannot check the model assets (is ../shared beside the repo, or WILDSIGHT_SHARED set?)`);
  const sums = new Map<string, string>();
  for (const line of readFileSync(sumsFile, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1]);
  }
  const problems: string[] = [];
  for (const f of files) {
    const full = path.join(dir, f);
    const want = sums.get(f);
    if (!want) problems.push(`${f} is not listed in ${sumsFile}`);
    else if (!existsSync(full)) problems.push(`missing ${full}`);
    else {
      const got = sha256(readFileSync(full));
      if (got !== want) problems.push(`altered ${full}: sha256 ${got}, SHA256SUMS says ${want}`);
    }
  }
  if (problems.length) throw new AssetError(`model assets failed their check:\n  - ${problems.join('\n  - ')}`);
}
