/**
 * Builds what a command needs and a fresh checkout lacks, as `npm start`
 * always has: the model registry (a version whose file is missing or does not
 * match its sha256 in the manifest) and the app bundle. Every entry point
 * that reads models/registry/ or dist/ calls one of these first, so
 * `npm run bench` on a fresh clone builds instead of failing with ENOENT.
 * Progress and the builds' own output go to stderr: several of these
 * commands print one JSON line on stdout for scripts to read.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DIST_DIR, REPO_ROOT } from './paths.ts';
import { missingModels, readManifest } from './registry.ts';

function npmRun(step: string, script: string, consumer: string): void {
  process.stderr.write(`> ${step}\n`);
  const res = spawnSync('npm', ['run', '-s', script], { cwd: REPO_ROOT, stdio: ['inherit', 2, 2] });
  if (res.status !== 0) {
    process.stderr.write(`${step} failed; ${consumer} was not started.\n`);
    process.exit(res.status ?? 1);
  }
}

/** Runs `npm run models:build` when a registered model is missing or damaged. */
export function ensureModels(consumer: string): void {
  let manifest = null;
  try {
    manifest = readManifest();
  } catch {
    /* unreadable: rebuilt below */
  }
  const missing = missingModels(manifest);
  if (missing.length) npmRun(`building models (missing: ${missing.join(', ')})`, 'models:build', consumer);
}

/** The models, then `npm run build` when dist/ has no app (the build precaches the active model). */
export function ensureApp(consumer: string): void {
  ensureModels(consumer);
  if (!existsSync(path.join(DIST_DIR, 'index.html'))) npmRun('building the app', 'build', consumer);
}
