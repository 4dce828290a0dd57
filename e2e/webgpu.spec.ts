import { test, expect } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';

test('with WebGPU available (SwiftShader) the app runs on WebGPU and still identifies', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend')).toHaveText('WebGPU', { timeout: 90_000 });
  await page.getByTestId('photo-input').setInputFiles(path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG'));
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle', { timeout: 90_000 });
  await expect(page.getByTestId('result-meta')).toContainText('WebGPU');
});
