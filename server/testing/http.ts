/** A real app on 127.0.0.1 with a free port, and small fetch helpers for the route tests. */
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type AppOptions } from '../app.ts';
import type { TestBackend, TestDb } from './backends.ts';
import { installToken } from '../plugins/app/install-credentials.ts';
import { checkRepliesAgainstSchemas } from './reply-check.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningApp {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  close(): Promise<void>;
}

export async function startApp(opts: AppOptions): Promise<RunningApp> {
  // Every route test also checks that no response schema changed a reply (reply-check.ts).
  const app = await buildApp({ logger: false, adminToken: ADMIN_TOKEN, rateLimitMax: 100_000, beforePlugins: checkRepliesAgainstSchemas, ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

/** A fresh database and the app on it, for one describe block; the fields are set once its beforeAll has run. */
export interface FreshApp {
  db: TestDb;
  server: RunningApp;
  url: string;
  /**
   * POST /v1/events with these events, each install's events with that
   * install's token (see postAsInstalls); the answers are merged back into
   * one, with refused events' indexes as in `events`.
   */
  postEvents(events: unknown[]): Promise<JsonResponse>;
}

/** POST /v1/events with an explicit Authorization header (or none). */
export const postEventsWith = (url: string, events: unknown[], authorization?: string) =>
  request(`${url}/v1/events`, { method: 'POST', json: { events }, headers: authorization ? { authorization } : {} });

/** Posts events grouped by their installId, each group with its install's token; merges the answers. */
export async function postAsInstalls(server: RunningApp, events: unknown[]): Promise<JsonResponse> {
  const groups = new Map<string, number[]>();
  events.forEach((e, i) => {
    const installId = (e as { installId?: unknown })?.installId;
    const id = (typeof installId === 'string' ? installId : '').toLowerCase();
    groups.set(id, [...(groups.get(id) ?? []), i]);
  });
  const merged = { accepted: 0, duplicates: 0, rejected: [] as Array<{ index: number }> };
  let status = 200;
  let headers = new Headers();
  for (const [installId, indexes] of groups) {
    // An event without a usable install id still needs some valid token to be judged on its own.
    const token = await installToken(server.app, /^[0-9a-f-]{36}$/.test(installId) ? installId : '00000000-0000-4000-8000-000000000000');
    const res = await postEventsWith(
      server.url,
      indexes.map((i) => events[i]),
      `Install ${token}`,
    );
    headers = res.headers;
    if (res.status !== 200 && res.status !== 422) return res;
    if (res.status === 422) status = 422;
    merged.accepted += res.body.accepted;
    merged.duplicates += res.body.duplicates;
    for (const r of res.body.rejected) merged.rejected.push({ ...r, index: indexes[r.index] });
  }
  merged.rejected.sort((a, b) => a.index - b.index);
  return { status, headers, body: merged };
}

/**
 * For the enclosing describe block: a fresh database of `backend` and the app
 * on it, started before the tests and closed after.
 */
export function serveFresh(backend: TestBackend, opts: Partial<AppOptions> = {}): FreshApp {
  const fresh = {
    postEvents: (events: unknown[]) => postAsInstalls(fresh.server, events),
  } as FreshApp;
  beforeAll(async () => {
    fresh.db = await backend.create();
    fresh.server = await startApp({ ...fresh.db.appOptions, ...opts });
    fresh.url = fresh.server.url;
  });
  afterAll(async () => {
    await fresh.server?.close();
    await fresh.db?.cleanup();
  });
  return fresh;
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(url: string, init: RequestInit & { json?: unknown; token?: string | null } = {}): Promise<JsonResponse<T>> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const res = await fetch(url, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as T };
}

export const admin = <T = any>(url: string, init: RequestInit & { json?: unknown } = {}) => request<T>(url, { ...init, token: ADMIN_TOKEN });

/** Reads every event through the admin API, following the pages. */
export async function allEvents(base: string, type?: string): Promise<Array<{ eventId: string; type: string; payload: any }>> {
  const items = [];
  let after: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({ limit: '1000', ...(type ? { type } : {}), ...(after ? { after } : {}) });
    const res: JsonResponse = await admin(`${base}/v1/admin/events?${q.toString()}`);
    if (res.status !== 200) throw new Error(`admin events: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    after = res.body.next;
  } while (after);
  return items;
}
