/** The admin API, with the token kept in sessionStorage only (gone when the tab closes). */
const TOKEN_KEY = 'wildsight.adminToken';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string | null) => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY));

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function adminFetch<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? getToken();
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${token ?? ''}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    cache: 'no-store',
  });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : null) as unknown;
  if (!res.ok) {
    const message = (body as { message?: unknown } | null)?.message;
    throw new AdminError(res.status, typeof message === 'string' ? message : `HTTP ${res.status}`);
  }
  return body as T;
}

// The replies' types are the server's response schemas (core/api/), not copies of them.
export type { Alert, BucketMetrics, DriftPoint, DriftResponse, DriftScore, LatencyStats, MetricsResponse, QualityDay, QualityResponse } from '../../core/api/monitoring.ts';
export type { AutoAcceptReply, ReviewItem, ReviewQueueReply } from '../../core/api/review.ts';
export type { ShadowResultsReply } from '../../core/api/models.ts';
export type { PackMetricsResponse } from '../../core/api/pack-monitoring.ts';
