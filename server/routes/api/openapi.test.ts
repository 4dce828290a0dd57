/**
 * GET /v1/openapi.json lists every route the app registers (collected with
 * Fastify's onRoute hook, so a new route cannot be forgotten), each with its
 * request schemas (path parameters, query, body), a reply schema and the
 * error replies' schema.
 * Static files (@fastify/static, hidden on purpose) and HEAD twins are not API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteOptions } from 'fastify';
import { BACKENDS, type TestDb } from '../../testing/backends.ts';
import { request, startApp, type RunningApp } from '../../testing/http.ts';
import { checkRepliesAgainstSchemas } from '../../testing/reply-check.ts';

interface Operation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

describe('GET /v1/openapi.json', () => {
  let db: TestDb;
  let server: RunningApp;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    db = await BACKENDS[0].create();
    server = await startApp({
      ...db.appOptions,
      beforePlugins: (app) => {
        checkRepliesAgainstSchemas(app);
        app.addHook('onRoute', (route) => {
          routes.push(route);
        });
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
  });

  const apiRoutes = () => routes.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ ...r, method }))).filter((r) => r.method !== 'HEAD' && !r.schema?.hide);
  const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

  it('is served, and the route list it is checked against is not empty', async () => {
    const res = await request(`${server.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    // The API as the README lists it, at least: a collector that saw nothing would pass everything below.
    const urls = apiRoutes().map((r) => `${r.method} ${r.url}`);
    for (const r of [
      'POST /v1/events',
      'GET /v1/models',
      'GET /v1/taxa',
      'POST /v1/installs',
      'DELETE /v1/installs/me',
      'GET /v1/admin/corrections',
      'GET /v1/admin/monitoring/metrics',
      'GET /healthz',
      'GET /metrics',
      'GET /v1/openapi.json',
    ]) {
      expect(urls).toContain(r);
    }
  });

  it('names the credential each protected route needs', async () => {
    const doc = (await request(`${server.url}/v1/openapi.json`)).body as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths['/v1/events'].post.security).toEqual([{ install: [] }]);
    expect(doc.paths['/v1/installs/me'].delete.security).toEqual([{ install: [] }]);
    for (const [p, ops] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/admin/'))) {
      for (const [method, op] of Object.entries(ops)) expect(op.security, `${method} ${p}`).toEqual([{ admin: [] }]);
    }
  });

  it('has every route with its request and reply schemas', async () => {
    const doc = (await request(`${server.url}/v1/openapi.json`)).body as { paths: Record<string, Record<string, Operation>> };
    const missing: string[] = [];
    for (const r of apiRoutes()) {
      const name = `${r.method} ${r.url}`;
      const op = doc.paths[openApiPath(r.url)]?.[String(r.method).toLowerCase()];
      if (!op) {
        missing.push(`${name}: not in the document`);
        continue;
      }
      const params = op.parameters ?? [];
      const schema = (r.schema ?? {}) as { params?: { properties: object }; querystring?: { properties: object }; body?: unknown; response?: Record<string, unknown> };
      for (const p of Object.keys(schema.params?.properties ?? {})) if (!params.some((x) => x.in === 'path' && x.name === p)) missing.push(`${name}: path parameter ${p}`);
      for (const q of Object.keys(schema.querystring?.properties ?? {})) if (!params.some((x) => x.in === 'query' && x.name === q)) missing.push(`${name}: query parameter ${q}`);
      if (schema.body && !op.requestBody?.content?.['application/json']?.schema) missing.push(`${name}: request body schema`);
      // A reply schema for its success status, in whatever media type it answers.
      const success = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
      if (!success.length || !success.every(([, res]) => Object.values(res.content ?? {}).some((c) => c.schema))) missing.push(`${name}: reply schema`);
      for (const code of ['4XX', '5XX']) if (!op.responses?.[code]?.content?.['application/json']?.schema) missing.push(`${name}: error reply schema ${code}`);
    }
    expect(missing).toEqual([]);
  });
});
