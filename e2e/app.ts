import { expect, type Page } from '@playwright/test';

/** Opens the app and waits until the model is loaded and the service worker has precached everything. */
export async function openApp(page: Page, path = '/') {
  await page.goto(path);
  await expect(page.getByTestId('model-version')).toHaveText(/\d+\.\d+\.\d+/, { timeout: 60_000 });
}

export async function waitForServiceWorker(page: Page) {
  // `ready` resolves once a worker is active, i.e. after its install step precached the shell, runtime and model.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 30_000 }).toBe(true);
}
