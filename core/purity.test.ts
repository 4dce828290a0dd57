/**
 * core/ must run unchanged in the page, the workers, the server and the
 * CLIs, so tsconfig.core.json gives it the language and nothing else. These
 * tests run the real compiler on the real project to show that a core module
 * reaching for a browser or Node global fails `npm run typecheck`, and that
 * the worker and page projects do not see each other's or Node's globals.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../node/paths.ts';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Runs tsc; a type error is an exit status of 2, which is an answer here, not a failure. */
async function tsc(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [TSC, ...args], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    if (e.code === 2 && typeof e.stdout === 'string') return e.stdout;
    throw err;
  }
}

const rel = (file: string) => path.relative(REPO_ROOT, file).split(path.sep).join('/');

/** Every .ts module under dir (not tests, not declarations), repo-relative. */
function modulesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modulesUnder(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(rel(p));
  }
  return out;
}

// Written into core/ itself (not a copy of the config), so the test also
// shows the project's include picks up a new module. Unique per run and
// removed afterwards; the name is one no real module will have.
const PROBE_DIR = path.join(REPO_ROOT, 'core', `__purity_probe_${process.pid}`);
afterAll(() => rmSync(PROBE_DIR, { recursive: true, force: true }));

const FORBIDDEN: Record<string, string> = {
  window: 'export const href = window.location.href;\n',
  document: 'export const title = document.title;\n',
  'node-fs': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
  process: 'export const home = process.env.HOME;\n',
  buffer: "export const bytes = Buffer.from('x');\n",
  'worker-self': 'export const post = self.postMessage;\n',
};
// What core/ may use (core/isomorphic.d.ts): this one must compile, or the
// probes above would "fail" for some unrelated reason.
const ALLOWED = "export const ok = atob('eA==') + new TextEncoder().encode('x').length;\n";

describe('tsconfig.core.json', () => {
  it('rejects a core module that uses window, document, node:fs, process, Buffer or self, and accepts the isomorphic globals', async () => {
    mkdirSync(PROBE_DIR, { recursive: true });
    for (const [name, text] of Object.entries(FORBIDDEN)) writeFileSync(path.join(PROBE_DIR, `${name}.ts`), text);
    writeFileSync(path.join(PROBE_DIR, 'allowed.ts'), ALLOWED);

    // --incremental false: never read or write the build cache `npm run typecheck` keeps.
    const out = await tsc(['-p', 'tsconfig.core.json', '--incremental', 'false', '--pretty', 'false', '--listFiles']);
    const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
    const probe = rel(PROBE_DIR);

    for (const name of Object.keys(FORBIDDEN)) {
      expect(
        errors.some((l) => l.startsWith(`${probe}/${name}.ts(`)),
        `${name} should not type-check in core/`,
      ).toBe(true);
    }
    expect(errors.filter((l) => l.startsWith(`${probe}/allowed.ts(`))).toEqual([]);
    // The real core modules are clean: every error is in a probe.
    expect(errors.filter((l) => !l.startsWith(`${probe}/`))).toEqual([]);

    // The program is every core module, no test, and no DOM, WebWorker or Node declarations.
    const files = out
      .split('\n')
      .filter((l) => l.startsWith('/'))
      .map((f) => f.trim());
    const listed = new Set(files.map(rel));
    for (const m of modulesUnder(path.join(REPO_ROOT, 'core')).filter((m) => !m.startsWith(`${probe}/`))) {
      expect(listed.has(m), `${m} is in the core project`).toBe(true);
    }
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => /\/lib\.(dom|webworker)[.a-z]*\.d\.ts$/.test(f) || f.includes('/@types/node/'))).toEqual([]);
  }, 180_000);
});

describe('the worker and page projects', () => {
  // --listFilesOnly resolves the program without checking it: cheap, and it
  // is where a stray `/// <reference lib>` or a types entry would show.
  const libsOf = async (project: string) =>
    (await tsc(['-p', project, '--listFilesOnly']))
      .split('\n')
      .map((f) => f.trim())
      .filter((f) => /\/lib\.(dom|webworker)\.d\.ts$/.test(f) || f.includes('/@types/node/'))
      .map((f) => (f.includes('/@types/node/') ? '@types/node' : path.basename(f)));

  it('the workers get WebWorker globals and no DOM or Node', async () => {
    expect([...new Set(await libsOf('tsconfig.worker.json'))]).toEqual(['lib.webworker.d.ts']);
  }, 120_000);

  it('the page gets the DOM and no WebWorker or Node', async () => {
    expect([...new Set(await libsOf('tsconfig.page.json'))]).toEqual(['lib.dom.d.ts']);
  }, 120_000);
});
