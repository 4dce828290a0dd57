/**
 * npm start — builds whatever is missing (models from ../shared, the app
 * bundle), then serves the app on PORT (default 8080) and prints the URL.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DIST_DIR, REPO_ROOT } from '../node/paths.ts';
import { missingModels, readManifest } from '../node/registry.ts';
import { startServer } from '../server/main.ts';

function run(what: string, args: string[]) {
  console.log(`> ${what}`);
  const res = spawnSync('npm', ['run', '-s', ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`${what} failed; the server was not started.`);
    process.exit(res.status ?? 1);
  }
}

let manifest = null;
try { manifest = readManifest(); } catch { /* rebuilt below */ }
const missing = missingModels(manifest);
if (missing.length) run(`building models (missing: ${missing.join(', ')})`, ['models:build']);
if (!existsSync(path.join(DIST_DIR, 'index.html'))) run('building the app', ['build']);
await startServer();
