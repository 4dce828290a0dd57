import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_ARGS } from './e2e/chromium.ts';

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
    env: { PORT: String(PORT), LOG_LEVEL: 'warn' },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
