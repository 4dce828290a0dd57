/**
 * The outbox: telemetry events wait in IndexedDB until the server has them.
 * Sent in batches when online, with exponential backoff on failure; each
 * event's id is its idempotency key, so a batch delivered twice is harmless.
 * Survives reloads and closing the app (it is just IndexedDB), and only one
 * tab sends at a time (Web Locks).
 *
 * Events go out with the install's credential (Authorization: Install …),
 * stamped with its install id at send time: the outbox belongs to the
 * current install, and is emptied when reports are turned off or the
 * install id is reset. A 401 means the credential is no good (revoked, or
 * the server no longer knows it): it is dropped and a new one asked for.
 */
import { MAX_BATCH_EVENTS, type TelemetryEvent } from '../../core/telemetry.ts';
import type { BatchResult } from '../../core/api/events.ts';
import type { InstallCredential } from '../../core/api/installs.ts';
import { openAppDb } from '../storage/db.ts';
import { authorization, ensureCredential } from './credential.ts';
import { getSettings, retireCredential } from './settings.ts';

const ENDPOINT = '/v1/events';
export const SEND_BATCH = 100;
const BASE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 10 * 60_000;

type Listener = () => void;
const listeners = new Set<Listener>();
export function onOutboxChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
const changed = () => listeners.forEach((l) => l());

/** Queues events; one already waiting under the same id is kept as it is (it may carry more, such as a shadow result). */
export async function enqueue(events: TelemetryEvent[]): Promise<void> {
  if (!events.length) return;
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  const now = Date.now();
  for (const event of events) {
    if (await tx.store.getKey(event.eventId)) continue;
    await tx.store.put({ id: event.eventId, createdAt: now, attempts: 0, nextAttemptAt: now, event });
  }
  await tx.done;
  changed();
  void flush();
}

/**
 * nextAttemptAt of a held event: never due until released. An observation's
 * identification report waits here, counted as waiting but not sent, while
 * photos may still change its fused answer (report.ts).
 */
const HELD = Number.MAX_SAFE_INTEGER;

/** Queues an event held back from sending; replaces one held under the same id, keeps one already released. */
export async function hold(event: TelemetryEvent): Promise<void> {
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  const item = await tx.store.get(event.eventId);
  if (!item || item.nextAttemptAt === HELD) await tx.store.put({ id: event.eventId, createdAt: item?.createdAt ?? Date.now(), attempts: 0, nextAttemptAt: HELD, event });
  await tx.done;
  changed();
}

/** Rewrites a held event (a no-op once it is released: what was released is what the server gets). */
export async function updateHeld(id: string, update: (event: TelemetryEvent) => TelemetryEvent): Promise<void> {
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  const item = await tx.store.get(id);
  if (item && item.nextAttemptAt === HELD) await tx.store.put({ ...item, event: update(item.event as TelemetryEvent) });
  await tx.done;
}

/** Makes every held event due now and sends (an observation was closed, or the app restarted with one held). */
export async function releaseHeld(): Promise<void> {
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  let cursor = await tx.store.index('nextAttemptAt').openCursor(IDBKeyRange.lowerBound(HELD));
  let any = false;
  while (cursor) {
    await cursor.update({ ...cursor.value, nextAttemptAt: Date.now() });
    any = true;
    cursor = await cursor.continue();
  }
  await tx.done;
  if (any) void flush();
}

export async function outboxLength(): Promise<number> {
  return (await openAppDb()).count('outbox');
}

/** Drops everything waiting (reports turned off, install id reset, data deleted). */
export async function clearOutbox(): Promise<void> {
  await (await openAppDb()).clear('outbox');
  changed();
}

/** Delay before the next try: doubling from 2 s to 10 min, with jitter so phones coming online together do not arrive together. */
export function backoffMs(attempts: number, random = Math.random()): number {
  const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.5 + random / 2));
}

async function post(events: TelemetryEvent[], credential: InstallCredential): Promise<{ status: number; body: BatchResult | null }> {
  const stamped = events.map((e) => ({ ...e, installId: credential.installId }));
  const res = await fetch(ENDPOINT, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: authorization(credential) }, body: JSON.stringify({ events: stamped }) });
  let body: BatchResult | null = null;
  try {
    body = (await res.json()) as BatchResult;
  } catch {
    /* not JSON: treated by status */
  }
  return { status: res.status, body };
}

async function remove(ids: string[]) {
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  for (const id of ids) await tx.store.delete(id);
  await tx.done;
}

async function postpone(ids: string[]) {
  const db = await openAppDb();
  const tx = db.transaction('outbox', 'readwrite');
  for (const id of ids) {
    const item = await tx.store.get(id);
    if (!item) continue;
    const attempts = item.attempts + 1;
    await tx.store.put({ ...item, attempts, nextAttemptAt: Date.now() + backoffMs(attempts) });
  }
  await tx.done;
}

/** Sends one group; on 413 halves it and tries each half. Returns false when the server could not be reached. */
async function sendGroup(items: Array<{ id: string; event: unknown }>, credential: InstallCredential, renewed = false): Promise<boolean> {
  let res: { status: number; body: BatchResult | null };
  try {
    res = await post(
      items.map((i) => i.event as TelemetryEvent),
      credential,
    );
  } catch {
    await postpone(items.map((i) => i.id));
    return false;
  }
  if (res.status === 401) {
    // The credential is no good: retire it (kept only so its data can still be deleted) and try once with a new one.
    // Only if it is still the current one: the other half of a split batch may have renewed it already.
    if ((await getSettings()).credential?.token === credential.token) await retireCredential();
    const fresh = renewed ? null : await ensureCredential();
    if (fresh) return sendGroup(items, fresh, true);
    await postpone(items.map((i) => i.id));
    return false;
  }
  if (res.status === 200 || res.status === 422) {
    // Accepted, duplicates and rejected alike are done: a rejected event will never be accepted as it is.
    if (res.status === 422 && res.body?.rejected?.length) console.warn('telemetry events rejected by the server', res.body.rejected);
    await remove(items.map((i) => i.id));
    return true;
  }
  if (res.status === 413 && items.length > 1) {
    const half = Math.ceil(items.length / 2);
    return (await sendGroup(items.slice(0, half), credential)) && (await sendGroup(items.slice(half), credential));
  }
  if (res.status === 400 || res.status === 413) {
    // The server will never take these bytes; keeping them would block the queue forever.
    console.warn(`telemetry batch refused (${res.status}); dropped`, res.body);
    await remove(items.map((i) => i.id));
    return true;
  }
  await postpone(items.map((i) => i.id)); // 429, 5xx: try later
  return res.status < 500 && res.status !== 429;
}

let flushing: Promise<void> | null = null;

/** Sends everything that is due. Safe to call often: one flush at a time per tab, one tab at a time. */
export function flush(): Promise<void> {
  if (!navigator.onLine) return Promise.resolve();
  flushing ??= (async () => {
    const run = async () => {
      // Settings first: reading them upgrades an older version's, which empties a queue no one agreed to.
      await getSettings();
      const db = await openAppDb();
      for (;;) {
        const due = await db.getAllFromIndex('outbox', 'nextAttemptAt', IDBKeyRange.upperBound(Date.now()), Math.min(SEND_BATCH, MAX_BATCH_EVENTS));
        if (!due.length) break;
        // Only now, with something to send, is a credential asked for.
        const credential = await ensureCredential();
        if (!credential) {
          await postpone(due.map((i) => i.id));
          break;
        }
        const reached = await sendGroup(due, credential);
        changed();
        if (!reached) break;
      }
    };
    try {
      if (navigator.locks) await navigator.locks.request('wildsight-outbox', run);
      else await run();
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

/** Flushes when the app starts, when the network comes back, and every 30 s while open. */
export function startOutbox(): () => void {
  const kick = () => void flush();
  window.addEventListener('online', kick);
  const timer = setInterval(kick, 30_000);
  // A report held by the last session (closed before its observation was) goes now: that observation is over.
  void releaseHeld().then(kick);
  return () => {
    window.removeEventListener('online', kick);
    clearInterval(timer);
  };
}
