/**
 * The review round trip in the browser: two corrections arrive through
 * POST /v1/events, a reviewer accepts one and rejects the other in #/admin,
 * and only the accepted one reaches the retraining input
 * (pipeline/feedback-input.ts acceptedCorrections), read from the same store
 * the server used. The accepted proposed name joins GET /v1/taxa.
 */
import { issueInstall } from './consent.ts';
import { test, expect } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServerProcess } from '../node/server-process.ts';
import { openStore } from '../server/storage/open.ts';
import { acceptedCorrections } from '../pipeline/feedback-input.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'e2e-review-token-not-a-secret';

/** The real server as a child process on a free port, with its own store. */
async function startServer(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const server = await startServerProcess({ DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN, DATABASE_URL: '' }, 60_000);
  return { url: server.url, proc: server.child };
}

test('a reviewer accepts one correction and rejects another; only the accepted one feeds retraining', async ({ page, request }) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-review-'));
  const { url, proc } = await startServer(dataDir);
  try {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'models', 'registry', 'manifest.json'), 'utf8'));
    const version = manifest.versions.find((v: { version: string }) => v.version === manifest.active);
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    const me = await issueInstall(request, url);
    const installId = me.installId;
    const identification = (taxonId: string) => ({
      type: 'identification',
      eventId: randomUUID(),
      installId,
      modelVersion: version.version,
      backend: 'wasm',
      timings: { decodeMs: 5, preprocessMs: 5, inferenceMs: 50, totalMs: 60 },
      top5: [{ taxonId, p: 0.6 }],
      otherProbability: 0.1,
      abstain: false,
      appVersion: 'e2e',
      hour,
    });
    const correction = (of: { eventId: string }, label: { taxonId: string } | { proposedName: string }) => ({
      type: 'correction',
      eventId: randomUUID(),
      installId,
      correctsEventId: of.eventId,
      verdict: 'corrected',
      ...label,
      modelVersion: version.version,
      embedding: Array.from({ length: version.outputs.embeddingSize }, (_, i) => Math.sin(i)),
      appVersion: 'e2e',
      hour,
    });
    const [i1, i2] = [identification('tiger-beetle'), identification('jay')];
    const keep = correction(i1, { proposedName: 'Eurasian beaver' });
    const drop = correction(i2, { taxonId: 'ladybug' });
    const res = await request.post(`${url}/v1/events`, { data: { events: [i1, i2, keep, drop] }, headers: { Authorization: `Install ${me.token}` } });
    expect(res.status()).toBe(200);
    expect((await res.json()).accepted).toBe(4);

    await page.goto(`${url}/#/admin`);
    await page.getByTestId('admin-token').fill(TOKEN);
    await page.getByTestId('admin-sign-in').click();
    await page.getByTestId('tab-review').click();
    const rowKeep = page.locator(`[data-testid="review-item"][data-event-id="${keep.eventId}"]`);
    const rowDrop = page.locator(`[data-testid="review-item"][data-event-id="${drop.eventId}"]`);
    await expect(rowKeep).toContainText('Eurasian beaver');
    await expect(rowKeep).toContainText('tiger-beetle');
    await expect(rowDrop).toContainText('ladybug');
    await rowKeep.getByTestId('review-accept').click();
    await expect(rowKeep).toHaveCount(0);
    await rowDrop.getByTestId('review-reject').click();
    await expect(rowDrop).toHaveCount(0);
    await expect(page.getByTestId('review-empty')).toBeVisible();
    await page.getByTestId('review-status').selectOption('accepted');
    await expect(page.locator('[data-testid="review-item"]')).toHaveCount(1);
    await expect(rowKeep).toBeVisible();

    // The accepted proposed name is a taxon now.
    const taxa = await (await request.get(`${url}/v1/taxa`)).json();
    expect(taxa.taxa.filter((t: { source: string }) => t.source === 'proposed').map((t: { id: string }) => t.id)).toEqual(['proposed-eurasian-beaver']);
  } finally {
    proc.kill();
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  }

  // The pipeline's input, from the very store the server wrote.
  const store = await openStore({ dataDir });
  try {
    const accepted = [];
    for await (const c of acceptedCorrections(store)) accepted.push(c);
    expect(accepted.map((c) => [c.proposedName, c.taxonId, c.status])).toEqual([['Eurasian beaver', null, 'accepted']]);
    expect(accepted[0].embedding.length).toBeGreaterThan(0);
    const all = await store.listCorrections({ limit: 10 });
    expect(all.items.map((c) => c.status).sort()).toEqual(['accepted', 'rejected']);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
