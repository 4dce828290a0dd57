/**
 * What the device knows about its models, in one place: the version it runs,
 * the one kept for an offline rollback, its rollout assignment, refusals,
 * shadow tallies and the last /v1/models it read. Kept in IndexedDB so an
 * offline start uses the last assignment with no network at all; the Model
 * page subscribes to it.
 */
import type { ModelVersion } from '../../core/manifest.ts';
import type { ModelsView, ServedVersion } from '../../core/api/models.ts';
import { rolloutArm } from '../../core/rollout.ts';
import { openAppDb } from '../storage/db.ts';
import { engineOptionsFromUrl } from '../inference/client.ts';
import type { EngineOptions } from '../../workers/inference/types.ts';

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

export interface ShadowStats {
  runs: number;
  top1Agree: number;
  top5Overlap: number;
  failures: number;
  totalMs: number;
}

export interface Persisted {
  current: ModelVersion | null;
  previous: ModelVersion | null;
  assignment: Assignment | null;
  refused: Refusal[];
  /** A local rollback: run `version` while the server still assigns `fromVersion` in the same rollout. */
  pin: { version: string; fromVersion: string; rolloutId: string | null } | null;
  shadowStats: Record<string, ShadowStats>;
  served: ServedModels | null;
}

export interface Progress {
  version: string;
  role: 'update' | 'shadow';
  loaded: number;
  total: number;
  phase: 'downloading' | 'waiting' | 'switching';
}

export interface UpdaterState extends Persisted {
  /** Options the page's engine runs with (null until the start-up decision is made). */
  options: EngineOptions | null;
  /** Set by ?model= in the address bar: no updates. */
  pinnedByUrl: boolean;
  progress: Progress | null;
  shadow: { version: string; sampleRate: number; state: 'loading' | 'ready' | 'failed'; message?: string } | null;
  lastError: string | null;
}

export const PERSIST_KEY = 'model-rollout';
export const EMPTY: Persisted = { current: null, previous: null, assignment: null, refused: [], pin: null, shadowStats: {}, served: null };

let state: UpdaterState = { ...EMPTY, options: null, pinnedByUrl: false, progress: null, shadow: null, lastError: null };
const listeners = new Set<() => void>();
export function set(change: Partial<UpdaterState>) {
  state = { ...state, ...change };
  listeners.forEach((l) => l());
}
export const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
};
export const getState = () => state;

export async function persist() {
  const { current, previous, assignment, refused, pin, shadowStats, served } = state;
  try {
    await (await openAppDb()).put('settings', { current, previous, assignment, refused, pin, shadowStats, served } satisfies Persisted, PERSIST_KEY);
  } catch (err) {
    console.warn('could not keep the model assignment on this device', err);
  }
}

/** The manifest entry without the server's status (which must not change the engine's identity). */
export function entryOf(v: ModelVersion | ServedVersion): ModelVersion {
  const { status: _s, ...rest } = v as ServedVersion;
  return rest;
}

export function optionsFor(model: ModelVersion, fallback: ModelVersion | null): EngineOptions {
  const base = engineOptionsFromUrl();
  return { ...base, version: undefined, model, fallbacks: fallback && fallback.version !== model.version ? [fallback] : [] };
}

export function assign(served: ServedModels, installId: string): Assignment {
  const r = served.rollout;
  const at = Date.now();
  if (r && r.state === 'running' && served.versions.some((v) => v.version === r.version)) {
    const { version, inCanary, bucket } = rolloutArm(r, installId);
    return { version, rolloutId: r.id, bucket, percent: r.percent, inCanary, at };
  }
  return { version: served.active, rolloutId: null, bucket: null, percent: null, inCanary: false, at };
}
