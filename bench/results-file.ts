/**
 * A benchmark's run report: printed as one JSON line (what scripts read) and
 * kept as bench/results/<name>-<time>.json, so runs can be compared later.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../node/paths.ts';

export function saveRunReport(name: string, report: { at: string }): string {
  console.log(JSON.stringify(report));
  const outDir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}-${report.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
