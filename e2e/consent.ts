/** The first-run question about anonymous reports, answered as a user would. */
import { expect, type Page } from '@playwright/test';

export async function allowReports(page: Page) {
  await page.getByTestId('consent-yes').click();
  await expect(page.getByTestId('consent')).toHaveCount(0);
}

export async function declineReports(page: Page) {
  await page.getByTestId('consent-no').click();
  await expect(page.getByTestId('consent')).toHaveCount(0);
}

/** A credential for scripts that post events themselves, as the app does on first sync. */
export async function issueInstall(request: import('@playwright/test').APIRequestContext, base = ''): Promise<{ installId: string; token: string }> {
  const res = await request.post(`${base}/v1/installs`);
  expect(res.status()).toBe(201);
  return res.json();
}
