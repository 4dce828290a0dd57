/** A real app on 127.0.0.1 with a free port, and small fetch helpers for the route tests. */
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type AppOptions } from '../app.ts';
import type { TestBackend, TestDb } from './backends.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningApp {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  close(): Promise<void>;
}

export async function startApp(opts: AppOptions): Promise<RunningApp> {
  const app = await buildApp({ logger: false, adminToken: ADMIN_TOKEN, rateLimitMax: 100_000, ...opts });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

/** A fresh database and the app on it, for one describe block; the fields are set once its beforeAll has run. */
export interface FreshApp {
  db: TestDb;
  server: RunningApp;
  url: string;
  /** POST /v1/events with these events. */
  postEvents(events: unknown[]): Promise<JsonResponse>;
}

/**
 * For the enclosing describe block: a fresh database of `backend` and the app
 * on it, started before the tests and closed after.
 */
export function serveFresh(backend: TestBackend): FreshApp {
  const fresh = {
    postEvents: (events: unknown[]) => request(`${fresh.url}/v1/events`, { method: 'POST', json: { events } }),
  } as FreshApp;
  beforeAll(async () => {
    fresh.db = await backend.create();
    fresh.server = await startApp(fresh.db.appOptions);
    fresh.url = fresh.server.url;
  });
  afterAll(async () => {
    await fresh.server?.close();
    await fresh.db?.cleanup();
  });
  return fresh;
}

export interface JsonResponse<T = any> { status: number; headers: Headers; body: T }

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
    const res: JsonResponse = await admin(`${base}/v1/admin/events?${q}`);
    if (res.status !== 200) throw new Error(`admin events: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    after = res.body.next;
  } while (after);
  return items;
}
