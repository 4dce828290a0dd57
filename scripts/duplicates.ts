// Blocks of code repeated outside tests, found by jscpd (its Rust engine;
// a whole-repo scan takes about a second). scripts/duplicates.test.ts runs it
// in npm test and fails listing each clone; extract a shared helper instead.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The smallest repeat that counts: six lines, and jscpd's default 50 tokens, so a run of closing brackets or an import list alone does not. */
export const MIN_LINES = 6;
export const MIN_TOKENS = 50;

/** Not checked: tests (fixtures repeat on purpose), what is built or recorded, and static files. */
export const IGNORED = [
  '**/*.test.ts',
  '**/*.spec.ts',
  'e2e/**',
  'server/testing/**',
  'bench/results/**',
  '**/node_modules/**',
  'dist/**',
  '.cache/**',
  '.scratch/**',
  'models/registry/**',
  'public/**',
  '**/generated/**',
];

export interface Clone {
  /** `file:first-last` of each copy, repo-relative. */
  first: string;
  second: string;
  lines: number;
}

interface JscpdSide {
  name: string;
  start: number;
  end: number;
}
interface JscpdReport {
  duplicates: Array<{ lines: number; firstFile: JscpdSide; secondFile: JscpdSide }>;
}

const jscpdBin = path.join(import.meta.dirname, '..', 'node_modules', '.bin', 'jscpd');

/** Every clone of at least MIN_LINES lines in the TypeScript and JavaScript under `root`. */
export function findClones(root: string): Clone[] {
  const out = mkdtempSync(path.join(tmpdir(), 'wildsight-jscpd-'));
  try {
    execFileSync(
      jscpdBin,
      ['--min-lines', String(MIN_LINES), '--min-tokens', String(MIN_TOKENS), '--format', 'typescript,tsx,javascript', '--ignore', IGNORED.join(','), '--reporters', 'json', '--output', out, '.'],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const report = JSON.parse(readFileSync(path.join(out, 'jscpd-report.json'), 'utf8')) as JscpdReport;
    const at = (s: JscpdSide) => `${s.name}:${s.start}-${s.end}`;
    return report.duplicates.map((d) => ({ first: at(d.firstFile), second: at(d.secondFile), lines: d.lines }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
