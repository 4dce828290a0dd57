/**
 * A load of telemetry batches as the app's outbox sends them, for the
 * cluster kill test: workers post batches of fresh events (unique ids) with
 * install credentials and resend a batch, unchanged, until it gets a 2xx
 * (the outbox's rule: only a 5xx or no answer means "send again"). What
 * was acknowledged is kept id by id, so the store can be checked against it.
 */
import { randomUUID } from 'node:crypto';
import { readManifest, loadTaxonomy } from './registry.ts';
import { truncateToHour } from '../core/telemetry.ts';

export interface Credential {
  installId: string;
  token: string;
}

/** POST /v1/installs n times. */
export async function issueInstalls(url: string, n: number): Promise<Credential[]> {
  const out: Credential[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/installs`, { method: 'POST' });
    if (res.status !== 201) throw new Error(`POST /v1/installs answered ${res.status}: ${await res.text()}`);
    out.push((await res.json()) as Credential);
  }
  return out;
}

export interface LoadResult {
  /** Event ids whose batch got a 2xx. */
  acked: Set<string>;
  /** Every event id sent at least once. */
  sent: Set<string>;
  batches: number;
  /** Requests that got no answer or a non-2xx, and were sent again. */
  resends: number;
  /** What the failed attempts were: "503", "502", "ECONNRESET", ... */
  failures: Record<string, number>;
  /** Sum of `accepted` / `duplicates` over the 2xx answers. */
  accepted: number;
  duplicates: number;
  /** Per batch, from its first send to its 2xx, in ms. */
  latencies: number[];
  seconds: number;
}

/** An identification event body, as the app builds it. */
export function eventFactory() {
  const manifest = readManifest();
  if (!manifest) throw new Error('no models/registry/manifest.json (run npm run models:build)');
  const version = manifest.active;
  const taxa = loadTaxonomy().taxa.map((t) => t.id);
  const hour = truncateToHour(Date.now());
  return (installId: string, eventId: string) => ({
    type: 'identification',
    eventId,
    installId,
    modelVersion: version,
    backend: 'wasm',
    timings: { decodeMs: 4.1, preprocessMs: 6.3, inferenceMs: 51.2, totalMs: 63.9 },
    top5: [
      { taxonId: taxa[0], p: 0.61 },
      { taxonId: taxa[1], p: 0.2 },
      { taxonId: taxa[2], p: 0.07 },
    ],
    otherProbability: 0.09,
    abstain: false,
    appVersion: 'cluster-test',
    hour,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(opts: { url: string; installs: Credential[]; workers: number; batch: number; durationMs: number; maxTries?: number }): Promise<LoadResult> {
  const make = eventFactory();
  const r: LoadResult = { acked: new Set(), sent: new Set(), batches: 0, resends: 0, failures: {}, accepted: 0, duplicates: 0, latencies: [], seconds: 0 };
  const start = performance.now();
  const end = start + opts.durationMs;
  const maxTries = opts.maxTries ?? 100;
  const fail = (kind: string) => {
    r.failures[kind] = (r.failures[kind] ?? 0) + 1;
  };

  async function worker(w: number) {
    let n = 0;
    while (performance.now() < end) {
      const cred = opts.installs[(w + n++) % opts.installs.length];
      const ids = Array.from({ length: opts.batch }, () => randomUUID());
      const body = JSON.stringify({ events: ids.map((id) => make(cred.installId, id)) });
      for (const id of ids) r.sent.add(id);
      const t0 = performance.now();
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(`${opts.url}/v1/events`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', authorization: `Install ${cred.token}` },
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          if (res.status === 200) {
            const b = JSON.parse(text) as { accepted: number; duplicates: number };
            r.accepted += b.accepted;
            r.duplicates += b.duplicates;
            for (const id of ids) r.acked.add(id);
            r.batches++;
            r.latencies.push(performance.now() - t0);
            break;
          }
          // 4xx other than 429 is a bug in this load, not something a resend fixes.
          if (res.status < 500 && res.status !== 429) throw new Error(`POST /v1/events answered ${res.status}: ${text.slice(0, 300)}`);
          fail(String(res.status));
        } catch (err) {
          if ((err as Error).message.startsWith('POST /v1/events answered')) throw err;
          const cause = (err as { cause?: { code?: string } }).cause;
          fail(cause?.code ?? (err as Error).name);
        }
        if (attempt >= maxTries) throw new Error(`a batch got no 2xx in ${maxTries} tries: ${JSON.stringify(r.failures)}`);
        r.resends++;
        await sleep(Math.min(1_000, 50 * attempt));
      }
    }
  }
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  r.seconds = (performance.now() - start) / 1000;
  return r;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
