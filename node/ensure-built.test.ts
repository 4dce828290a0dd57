/**
 * Every command that needs the built models builds them first, as `npm start`
 * does (node/ensure-built.ts). Each entry point is run for real against an
 * empty registry and ../shared pointed nowhere, so models:build is started
 * and fails at once instead of spending minutes: the command must say it
 * tried to build, stop, and print nothing on stdout. A command that skipped
 * the check would fail differently (ENOENT, "no model registry") or not at all.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './paths.ts';

const registry = mkdtempSync(path.join(tmpdir(), 'ensure-built-'));
afterAll(() => rmSync(registry, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, WILDSIGHT_REGISTRY: registry, WILDSIGHT_SHARED: path.join(registry, 'no-shared') },
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const COMMANDS: Array<[string, string[]]> = [
  ['classify', ['scripts/classify.ts', 'photo.jpg']],
  ['eval (browser)', ['scripts/eval.ts', '--runtime', 'browser', '--images', registry]],
  ['pipeline', ['pipeline/cli.ts', 'retrain']],
  ['simulate drift', ['scripts/simulate.ts', 'drift']],
  ['bench', ['bench/run.ts']],
  ['bench:pwa', ['bench/pwa.ts']],
  ['bench:ingest', ['bench/ingest.ts']],
  ['bench:retrain', ['bench/retrain.ts']],
  ['bench:wire', ['bench/wire.ts']],
  ['bench:format', ['bench/model-format.ts']],
  ['bench:resamplers', ['bench/resamplers.ts']],
  ['bench:new-taxa-settings', ['bench/new-taxa-settings.ts']],
];

// Concurrent: each is a few seconds of tsx start-up and nothing else.
describe.concurrent('commands that need the models build them when missing', () => {
  it.each(COMMANDS)(
    '%s',
    async (_name, args) => {
      const r = await run(args);
      expect(r.stderr).toContain('> building models (missing: manifest.json)');
      expect(r.stderr).toMatch(/building models .* failed; .* was not started\./);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
    },
    120_000,
  );
});
