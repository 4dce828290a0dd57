import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_ARGS } from './harness/chromium.ts';
import { E2E_ADMIN_TOKEN } from './e2e/admin.ts';

const PORT = Number(process.env.E2E_PORT ?? 8181);
const CHROMIUM = CHROMIUM_PATH;
const quiet = CHROMIUM_ARGS;
const swiftshaderWebgpu = WEBGPU_ARGS;

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'reports/playwright.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    trace: 'off',
  },
  projects: [
    { name: 'wasm', testIgnore: /webgpu\.spec\.ts/, use: { launchOptions: { executablePath: CHROMIUM, args: quiet } } },
    { name: 'webgpu', testMatch: /webgpu\.spec\.ts/, use: { launchOptions: { executablePath: CHROMIUM, args: [...quiet, ...swiftshaderWebgpu] } } },
  ],
  webServer: {
    command: 'npx tsx server/main.ts',
    url: `http://127.0.0.1:${PORT}/readyz`,
    // A fresh SQLite store for every run, and an admin token the tests use to check what arrived.
    env: { PORT: String(PORT), LOG_LEVEL: 'warn', ADMIN_TOKEN: E2E_ADMIN_TOKEN, DATA_DIR: process.env.E2E_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-')) },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
