/**
 * What the page's engine tells the update flow: whether an identification is
 * running (a switch waits for the gap between them) and which version the
 * engine loaded (updates start only after the first load).
 */
import type { EngineInfo } from '../../workers/inference/types.ts';
import { reportModelStatus } from '../telemetry/model-status.ts';

let busy = false;
let idleWaiters: Array<() => void> = [];
export function setBusy(b: boolean) {
  busy = b;
  if (!b) {
    const w = idleWaiters;
    idleWaiters = [];
    w.forEach((f) => f());
  }
}
export const whenIdle = () => (busy ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve());

let engineInfo: EngineInfo | null = null;
let engineWaiters: Array<(i: EngineInfo) => void> = [];
export function engineLoaded(info: EngineInfo) {
  void reportModelStatus(info.version, 'loaded', { backend: info.backend });
  engineInfo = info;
  const w = engineWaiters;
  engineWaiters = [];
  w.forEach((f) => f(info));
}
export const loadedEngine = () => (engineInfo ? Promise.resolve(engineInfo) : new Promise<EngineInfo>((r) => engineWaiters.push(r)));
export const currentEngine = () => engineInfo;
