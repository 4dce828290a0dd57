import type { APIRequestContext } from '@playwright/test';

export const E2E_ADMIN_TOKEN = 'e2e-admin-token-not-a-secret';
const auth = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

/** Every correction the server holds (paged admin API). */
export async function adminCorrections(request: APIRequestContext): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let after: string | null = null;
  do {
    const res: import('@playwright/test').APIResponse = await request.get(`/v1/admin/corrections?limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`, { headers: auth });
    if (!res.ok()) throw new Error(`admin corrections: HTTP ${res.status()} ${await res.text()}`);
    const body: { items: Array<Record<string, unknown>>; next: string | null } = await res.json();
    items.push(...body.items);
    after = body.next;
  } while (after);
  return items;
}

export async function adminEvents(request: APIRequestContext, type: 'identification' | 'correction'): Promise<Array<Record<string, unknown>>> {
  const res = await request.get(`/v1/admin/events?type=${type}&limit=500`, { headers: auth });
  if (!res.ok()) throw new Error(`admin events: HTTP ${res.status()}`);
  return (await res.json()).items;
}
