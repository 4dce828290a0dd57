/**
 * Model updates on the device. When online the app reads GET /v1/models,
 * works out which version this device should run (the sticky rollout bucket
 * of its install id and the rollout id, core/rollout.ts), downloads that
 * version in the background with progress, verifies its sha256, keeps the
 * previous version for offline rollback, and switches only between
 * identifications. A version the app cannot run, or whose bytes do not
 * match, is refused with a reason (kept and shown on the Model page).
 *
 * What the device runs is kept in IndexedDB, so an offline start uses the
 * last assignment with no network at all. A shadow candidate (announced by
 * the server) is downloaded too and handed to the worker, which runs it on
 * a sample of identifications; its agreement is tallied here.
 */
import type { ModelVersion } from '../../core/manifest.ts';
import type { ModelsView, ServedVersion } from '../../core/api/models.ts';
import type { Taxonomy } from '../../core/taxonomy.ts';
import type { ShadowResult } from '../../core/telemetry.ts';
import { rolloutBucket, inRollout, BUCKETS } from '../../core/rollout.ts';
import { openAppDb } from '../storage/db.ts';
import { getSettings } from '../telemetry/settings.ts';
import { engineOptionsFromUrl, inference, MANIFEST_URL } from '../inference/client.ts';
import { InferenceError } from '../inference/bridge.ts';
import type { EngineInfo, EngineOptions } from '../../workers/inference/types.ts';
import { incompatibility } from './compat.ts';
import { reportModelStatus } from '../telemetry/model-status.ts';

export const MODELS_URL = '/v1/models';
export const MODELS_KEY = ['models'] as const;

/** GET /v1/models as the server's response schema says (core/api/models.ts). */
export type ServedModels = ModelsView;
export type { ModelStatus, ServedVersion } from '../../core/api/models.ts';

export interface Assignment {
  version: string;
  rolloutId: string | null;
  /** This device's bucket in [0, BUCKETS) for the rollout. */
  bucket: number | null;
  percent: number | null;
  inCanary: boolean;
  at: number;
}

export interface Refusal {
  version: string;
  sha256: string;
  reason: string;
  at: number;
  /** Bytes that failed their check may be fixed on the server: try again after this. Unset: refused for good. */
  retryAt?: number;
}

/** How long bytes that failed their integrity check are left alone before another try. */
export const INTEGRITY_RETRY_MS = 60 * 60_000;

export interface ShadowStats { runs: number; top1Agree: number; top5Overlap: number; failures: number; totalMs: number }

interface Persisted {
  current: ModelVersion | null;
  previous: ModelVersion | null;
  assignment: Assignment | null;
  refused: Refusal[];
  /** A local rollback: run `version` while the server still assigns `fromVersion` in the same rollout. */
  pin: { version: string; fromVersion: string; rolloutId: string | null } | null;
  shadowStats: Record<string, ShadowStats>;
  served: ServedModels | null;
}

export interface Progress { version: string; role: 'update' | 'shadow'; loaded: number; total: number; phase: 'downloading' | 'waiting' | 'switching' }

export interface UpdaterState extends Persisted {
  /** Options the page's engine runs with (null until the start-up decision is made). */
  options: EngineOptions | null;
  /** Set by ?model= in the address bar: no updates. */
  pinnedByUrl: boolean;
  progress: Progress | null;
  shadow: { version: string; sampleRate: number; state: 'loading' | 'ready' | 'failed'; message?: string } | null;
  lastError: string | null;
}

const KEY = 'model-rollout';
const EMPTY: Persisted = { current: null, previous: null, assignment: null, refused: [], pin: null, shadowStats: {}, served: null };

let state: UpdaterState = { ...EMPTY, options: null, pinnedByUrl: false, progress: null, shadow: null, lastError: null };
const listeners = new Set<() => void>();
function set(change: Partial<UpdaterState>) {
  state = { ...state, ...change };
  listeners.forEach((l) => l());
}
export const subscribe = (l: () => void) => { listeners.add(l); return () => { listeners.delete(l); }; };
export const getState = () => state;

async function persist() {
  const { current, previous, assignment, refused, pin, shadowStats, served } = state;
  try {
    await (await openAppDb()).put('settings', { current, previous, assignment, refused, pin, shadowStats, served } satisfies Persisted, KEY);
  } catch (err) {
    console.warn('could not keep the model assignment on this device', err);
  }
}

/** The manifest entry without the server's status (which must not change the engine's identity). */
export function entryOf(v: ModelVersion | ServedVersion): ModelVersion {
  const { status: _s, ...rest } = v as ServedVersion;
  return rest;
}

function optionsFor(model: ModelVersion, fallback: ModelVersion | null): EngineOptions {
  const base = engineOptionsFromUrl();
  return { ...base, version: undefined, model, fallbacks: fallback && fallback.version !== model.version ? [fallback] : [] };
}

export function assign(served: ServedModels, installId: string): Assignment {
  const r = served.rollout;
  const at = Date.now();
  if (r && r.state === 'running' && served.versions.some((v) => v.version === r.version)) {
    const bucket = rolloutBucket(installId, r.id);
    const inCanary = inRollout(installId, r.id, r.percent);
    return { version: inCanary ? r.version : r.controlVersion, rolloutId: r.id, bucket, percent: r.percent, inCanary, at };
  }
  return { version: served.active, rolloutId: null, bucket: null, percent: null, inCanary: false, at };
}

// --- busy: switch only between identifications -------------------------------------------

let busy = false;
let idleWaiters: Array<() => void> = [];
export function setBusy(b: boolean) {
  busy = b;
  if (!b) { const w = idleWaiters; idleWaiters = []; w.forEach((f) => f()); }
}
const whenIdle = () => (busy ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve());

// --- engine info from the page ------------------------------------------------------------

let engineInfo: EngineInfo | null = null;
let engineWaiters: Array<(i: EngineInfo) => void> = [];
export function engineLoaded(info: EngineInfo) {
  void reportModelStatus(info.version, 'loaded', { backend: info.backend });
  engineInfo = info;
  const w = engineWaiters; engineWaiters = []; w.forEach((f) => f(info));
}
const loadedEngine = () => (engineInfo ? Promise.resolve(engineInfo) : new Promise<EngineInfo>((r) => engineWaiters.push(r)));

// --- start-up -----------------------------------------------------------------------------

export async function fetchModels(signal?: AbortSignal): Promise<ServedModels> {
  const res = await fetch(MODELS_URL, { signal, cache: 'no-cache' });
  if (!res.ok) throw new Error(`GET ${MODELS_URL}: HTTP ${res.status}`);
  return res.json();
}

let booted: Promise<EngineOptions> | null = null;

/**
 * Decides what the engine starts with: the version kept on the device (no
 * network needed); on a first start, the server's active version when it
 * answers within a few seconds; else the bundled manifest's active version.
 */
export function boot(): Promise<EngineOptions> {
  booted ??= (async () => {
    const url = engineOptionsFromUrl();
    if (new URLSearchParams(location.search).has('model')) {
      set({ options: url, pinnedByUrl: true });
      return url;
    }
    let saved: Persisted | undefined;
    try { saved = (await (await openAppDb()).get('settings', KEY)) as Persisted | undefined; } catch { /* no storage: start fresh */ }
    set({ ...EMPTY, ...saved });
    if (state.current) {
      const opts = optionsFor(state.current, state.previous);
      set({ options: opts });
      return opts;
    }
    if (navigator.onLine) {
      try {
        const served = await fetchModels(AbortSignal.timeout(4000));
        const active = served.versions.find((v) => v.version === served.active);
        if (active && !(await incompatibility(entryOf(active), await taxonomy()))) {
          const opts = optionsFor(entryOf(active), null);
          set({ options: opts, served });
          return opts;
        }
      } catch { /* unreachable: the bundled manifest */ }
    }
    set({ options: url });
    return url;
  })();
  return booted;
}

let taxonomyPromise: Promise<Taxonomy> | null = null;
function taxonomy(): Promise<Taxonomy> {
  taxonomyPromise ??= fetch(new URL('../taxonomy.json', new URL(MANIFEST_URL, location.href)).href).then((r) => {
    if (!r.ok) throw new Error(`taxonomy: HTTP ${r.status}`);
    return r.json() as Promise<Taxonomy>;
  }).catch((err) => { taxonomyPromise = null; throw err; });
  return taxonomyPromise;
}

// --- updates ------------------------------------------------------------------------------

const isRefused = (v: ModelVersion) => state.refused.some((r) => r.version === v.version && r.sha256 === v.sha256 && !(r.retryAt && r.retryAt <= Date.now()));

function refuse(v: ModelVersion, reason: string, outcome: 'refused-incompatible' | 'refused-integrity' | 'failed-to-start', retryAfterMs?: number, code?: string) {
  // The rollout guard hears of it at once: a canary refused everywhere sends no identification.
  void reportModelStatus(v.version, outcome, { message: reason, code });
  console.warn(`model ${v.version} refused: ${reason}`);
  const at = Date.now();
  const refused = [{ version: v.version, sha256: v.sha256, reason, at, ...(retryAfterMs ? { retryAt: at + retryAfterMs } : {}) }, ...state.refused.filter((r) => !(r.version === v.version && r.sha256 === v.sha256))].slice(0, 10);
  set({ refused, progress: null });
  void persist();
}

/** Gets a version onto the device, verified. false when refused or not reachable now. */
async function fetchVersion(v: ModelVersion, role: Progress['role']): Promise<boolean> {
  if (isRefused(v)) return false;
  const why = await incompatibility(v, await taxonomy());
  if (why) { refuse(v, why, 'refused-incompatible'); return false; }
  set({ progress: { version: v.version, role, loaded: 0, total: v.bytes, phase: 'downloading' } });
  try {
    const url = new URL(v.file, new URL(MANIFEST_URL, location.href)).href;
    await inference.download(v, url, (loaded: number, total: number) => {
      set({ progress: { version: v.version, role, loaded, total, phase: 'downloading' } });
    });
    return true;
  } catch (err) {
    const e = err as Error;
    if (e instanceof InferenceError && (e.code === 'sha256-mismatch' || e.code === 'size-mismatch')) refuse(v, e.message, 'refused-integrity', INTEGRITY_RETRY_MS, e.code);
    else set({ progress: null, lastError: `Model ${v.version} could not be downloaded now: ${e?.message ?? String(err)}` });
    return false;
  }
}

/** Switches the engine to a version already on the device, between identifications. */
async function switchTo(v: ModelVersion): Promise<boolean> {
  set({ progress: { version: v.version, role: 'update', loaded: v.bytes, total: v.bytes, phase: 'waiting' } });
  await whenIdle();
  set({ progress: { version: v.version, role: 'update', loaded: v.bytes, total: v.bytes, phase: 'switching' } });
  const from = state.current ?? (engineInfo ? state.served?.versions.find((x) => x.version === engineInfo!.version) ?? null : null);
  const opts = optionsFor(v, from ? entryOf(from) : null);
  try {
    const info = await inference.init(opts);
    if (info.version !== v.version) throw new Error(`version ${info.version} was loaded instead`);
  } catch (err) {
    // The worker's code says why; the wrong-version check above is the page's own.
    refuse(v, `it could not be started: ${(err as Error)?.message ?? String(err)}`, 'failed-to-start', undefined, err instanceof InferenceError ? err.code : 'wrong-version-loaded');
    return false;
  }
  const previous = from && from.version !== v.version ? entryOf(from) : state.previous;
  set({ current: v, previous, options: opts, progress: null, lastError: null });
  await persist();
  return true;
}

let queue: Promise<unknown> = Promise.resolve();
const serial = <T>(work: () => Promise<T>): Promise<T> => {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
};

/** A fresh read of /v1/models: assign, download, verify, switch; and the shadow candidate. */
export function onServed(served: ServedModels): Promise<void> {
  return serial(async () => {
    await boot();
    if (state.pinnedByUrl) return;
    const info = await loadedEngine();
    const { rolloutSeed } = await getSettings();
    const assignment = assign(served, rolloutSeed);
    let pin = state.pin;
    if (pin && !(pin.fromVersion === assignment.version && pin.rolloutId === assignment.rolloutId)) pin = null;
    set({ served, assignment, pin });
    // A first start ran whatever the boot chose; remember it as the current version.
    if (!state.current) {
      const running = served.versions.find((v) => v.version === info.version);
      if (running) set({ current: entryOf(running) });
    }
    await persist();

    const wantedVersion = pin ? pin.version : assignment.version;
    const wanted = served.versions.find((v) => v.version === wantedVersion);
    if (wanted && !(state.current?.version === wanted.version && state.current.sha256 === wanted.sha256)) {
      const entry = entryOf(wanted);
      if (await fetchVersion(entry, 'update')) await switchTo(entry);
    }

    const sh = served.shadow;
    const candidate = sh && sh.sampleRate > 0 && sh.version !== state.current?.version ? served.versions.find((v) => v.version === sh.version) : undefined;
    if (candidate) {
      const entry = entryOf(candidate);
      if (state.shadow?.version === entry.version && state.shadow.state === 'ready') {
        await inference.setShadow(optionsFor(entry, null), sh!.sampleRate);
        set({ shadow: { ...state.shadow, sampleRate: sh!.sampleRate } });
      } else if (await fetchVersion(entry, 'shadow')) {
        set({ progress: null, shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'loading' } });
        try {
          await inference.setShadow(optionsFor(entry, null), sh!.sampleRate);
          set({ shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'ready' } });
        } catch (err) {
          set({ shadow: { version: entry.version, sampleRate: sh!.sampleRate, state: 'failed', message: (err as Error)?.message } });
        }
      }
    } else if (state.shadow) {
      await inference.setShadow(null).catch(() => null);
      set({ shadow: null });
    }
  });
}

/** The user's (or an operator's) offline rollback: run the previous version kept on the device. */
export function rollBackOnDevice(): Promise<boolean> {
  return serial(async () => {
    const prev = state.previous;
    const cur = state.current;
    if (!prev || !cur) return false;
    if (!(await switchTo(prev))) return false;
    set({ pin: { version: prev.version, fromVersion: cur.version, rolloutId: state.assignment?.rolloutId ?? null } });
    await persist();
    return true;
  });
}

/** Tallies a shadow result for the Model page. */
export function recordShadow(r: ShadowResult) {
  const s = state.shadowStats[r.modelVersion] ?? { runs: 0, top1Agree: 0, top5Overlap: 0, failures: 0, totalMs: 0 };
  const next: ShadowStats = {
    runs: s.runs + 1,
    top1Agree: s.top1Agree + (r.top1Agree ? 1 : 0),
    top5Overlap: s.top5Overlap + r.top5Overlap,
    failures: s.failures + (r.failed ? 1 : 0),
    totalMs: s.totalMs + r.inferenceMs,
  };
  set({ shadowStats: { ...state.shadowStats, [r.modelVersion]: next } });
  void persist();
}

export { BUCKETS };
