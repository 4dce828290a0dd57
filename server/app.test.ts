/**
 * App-wide behaviour on a real listening server: JSON errors, the existing
 * routes, /readyz's database check, the rate limit, /metrics, and what
 * happens when the database goes away.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from './testing/backends.ts';
import { postAsInstalls, postEventsWith, request, startApp, type RunningApp } from './testing/http.ts';
import { installToken } from './plugins/app/install-credentials.ts';
import { correction, identification, INSTALL_ID } from './testing/fixtures.ts';
import { openStore } from './storage/open.ts';
import { REGISTRY_DIR } from '../node/paths.ts';

const sqlite = BACKENDS[0];

describe('app', () => {
  let db: TestDb;
  let server: RunningApp;
  let distDir: string;

  beforeAll(async () => {
    db = await sqlite.create();
    distDir = await mkdtemp(path.join(tmpdir(), 'wildsight-dist-'));
    await writeFile(path.join(distDir, 'index.html'), '<!doctype html><title>Wildsight</title>');
    server = await startApp({ ...db.appOptions, distDir });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
    await rm(distDir, { recursive: true, force: true });
  });

  it('keeps the existing routes working', async () => {
    expect((await request(`${server.url}/healthz`)).body).toEqual({ status: 'ok' });
    const models = await request(`${server.url}/v1/models`);
    expect(models.status).toBe(200);
    expect(models.body.active).toMatch(/^\d+\.\d+\.\d+$/);
    const page = await request(`${server.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/Wildsight/);
    expect(page.headers.get('content-security-policy')).toMatch(/connect-src 'self'/);
    expect((await request(`${server.url}/models/registry/manifest.json`)).status).toBe(200);
  });

  it('serves the species packs: listed in /v1/models, their files, their taxa, and events that name them', async () => {
    const models = await request(`${server.url}/v1/models`);
    const birds = models.body.packs?.find((p: { id: string }) => p.id === 'inat-birds');
    expect(birds).toMatchObject({ kind: 'pack', routeClass: 'Aves', status: 'active' });
    const file = await fetch(`${server.url}/models/registry/${birds.file}`);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(birds.bytes);
    const taxa = await request(`${server.url}/v1/taxa`);
    expect(taxa.body.taxa.find((t: { id: string }) => t.id === 'haemorhous-mexicanus')).toMatchObject({
      scientificName: 'Haemorhous mexicanus',
      commonName: 'House Finch',
      rank: 'species',
      source: 'pack',
      lineage: { genus: 'Haemorhous', class: 'Aves' },
    });
    const pack = { id: 'inat-birds', version: birds.version, routedBy: 'rollup' as const, top5: [{ taxonId: 'haemorhous-mexicanus', p: 0.8 }] };
    const ok = await postAsInstalls(server, [identification({ pack }), correction({ taxonId: 'aramus-guarauna' })]);
    expect(ok.body).toMatchObject({ accepted: 2, rejected: [] });
    const bad = await postAsInstalls(server, [identification({ pack: { ...pack, top5: [{ taxonId: 'dodo', p: 1 }] } })]);
    expect(bad.body.rejected[0].reason).toBe('unknown-taxon');
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const res = await request(`${server.url}/v1/nothing`, { method: 'POST', json: {} });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not found', message: 'no route for POST /v1/nothing' });
  });

  it('is ready only when the database answers', async () => {
    const res = await request(`${server.url}/readyz`);
    // Model files may be unbuilt in a test checkout; the database must not be the problem.
    expect(JSON.stringify(res.body)).not.toMatch(/feedback database/);

    const store = await db.openStore();
    const detached = await startApp({ store, distDir, registryDir: REGISTRY_DIR });
    try {
      const token = await installToken(detached.app, INSTALL_ID);
      await store.close(); // the database "goes away" under a running app
      const down = await request(`${detached.url}/readyz`);
      expect(down.status).toBe(503);
      expect(down.body.problems).toContainEqual(expect.stringMatching(/^feedback database unreachable \(sqlite\)/));
      // Even the credential cannot be checked: the answer still says "send it again", not "go away".
      const post = await postEventsWith(detached.url, [identification()], `Install ${token}`);
      expect(post.status).toBe(503);
      expect(post.body).toEqual({ error: 'storage unavailable', message: expect.stringMatching(/nothing was stored, send it again/) });
      expect((await request(`${detached.url}/healthz`)).status).toBe(200);
    } finally {
      await detached.close();
    }
  });

  it('counts requests, latency and events for Prometheus', async () => {
    await postAsInstalls(server, [identification(), correction(), identification({ top5: [{ taxonId: 'dodo', p: 1 }] })]);
    const e = identification();
    await postAsInstalls(server, [e]);
    await postAsInstalls(server, [e]);
    const res = await request(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.body as string;
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${line} `))
          ?.split(' ')[1],
      );
    expect(value('wildsight_events_stored_total{type="identification"}')).toBeGreaterThanOrEqual(2);
    expect(value('wildsight_events_stored_total{type="correction"}')).toBeGreaterThanOrEqual(1);
    expect(value('wildsight_events_duplicate_total{type="identification"}')).toBeGreaterThanOrEqual(1);
    expect(value('wildsight_events_rejected_total{reason="unknown-taxon"}')).toBeGreaterThanOrEqual(1);
    expect(value('http_requests_total{method="POST",route="/v1/events",status_code="422"}')).toBeGreaterThanOrEqual(1);
    expect(value('http_requests_total{method="POST",route="/v1/events",status_code="200"}')).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/events",status_code="200"\} \d+/m);
    expect(text).toMatch(/^wildsight_store_batch_seconds_count\{backend="sqlite"\} \d+/m);
    // Raw URLs never become labels (one series per route, whatever clients send).
    await request(`${server.url}/v1/random-${Date.now()}`);
    expect((await request(`${server.url}/metrics`)).body).not.toMatch(/random-/);
  });
});

describe('rate limit', () => {
  let db: TestDb;
  let server: RunningApp;
  beforeAll(async () => {
    db = await sqlite.create();
    server = await startApp({ ...db.appOptions, rateLimitMax: 3 });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
  });

  it('answers 429 in JSON past the limit, on the API only', async () => {
    const statuses = [];
    const auth = `Install ${await installToken(server.app, INSTALL_ID)}`;
    for (let i = 0; i < 4; i++) statuses.push((await postEventsWith(server.url, [identification()], auth)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await request(`${server.url}/v1/taxa`);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'too many requests', message: expect.stringMatching(/more than 3 requests a minute.*retry in/) });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Health, metrics and the app itself are not limited.
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
    expect((await request(`${server.url}/metrics`)).status).toBe(200);
  });
});

describe('configuration', () => {
  it('refuses a bad RATE_LIMIT_MAX or a short ADMIN_TOKEN with a clear message', async () => {
    const { configFromEnv } = await import('./config.ts');
    expect(() => configFromEnv({ RATE_LIMIT_MAX: 'lots' })).toThrow(/RATE_LIMIT_MAX must be a whole number/);
    expect(() => configFromEnv({ RATE_LIMIT_MAX: '0' })).toThrow(/at least 1/);
    expect(() => configFromEnv({ ADMIN_TOKEN: 'secret' })).toThrow(/at least 16/);
    const cfg = configFromEnv({ DATA_DIR: 'some/dir', ADMIN_TOKEN: '  ' });
    expect(cfg.adminToken).toBeNull();
    expect(cfg.rateLimitMax).toBe(600);
    expect(path.isAbsolute(cfg.dataDir)).toBe(true);
  });

  it('fails to start with a clear error when PostgreSQL is unreachable', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    await expect(openStore({ databaseUrl: 'postgres://nobody:nothing@127.0.0.1:9/none', dataDir: '/nonexistent' })).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
