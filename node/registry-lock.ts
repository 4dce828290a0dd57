/**
 * One lock for every writer of a model registry: the pipeline's registration
 * and the admin API's. Both read the manifest, pick or check a version and
 * write the manifest back; two at once could lose a version or register the
 * same one twice. An exclusive file beside the manifest (`.register.lock`,
 * created with O_EXCL, taken over when its process is dead: pipeline/lock.ts) works across processes on one
 * machine, which is where a registry folder lives.
 */
import path from 'node:path';
import { fileLock } from '../pipeline/lock.ts';

export const REGISTRY_LOCK_FILE = '.register.lock';

export class RegistryBusyError extends Error {
  constructor(dir: string, waitedMs: number) {
    super(`the model registry ${dir} is locked by another registration (waited ${Math.round(waitedMs / 1000)} s); try again`);
    this.name = 'RegistryBusyError';
  }
}

/**
 * Runs `work` while holding the registry's lock, waiting up to `waitMs` for
 * it (registration takes seconds, so a short wait beats failing at once).
 */
export async function withRegistryLock<T>(dir: string, work: () => Promise<T> | T, opts: { waitMs?: number; pollMs?: number } = {}): Promise<T> {
  const lock = fileLock(path.join(dir, REGISTRY_LOCK_FILE));
  const waitMs = opts.waitMs ?? 30_000,
    pollMs = opts.pollMs ?? 100;
  const start = Date.now();
  let release = await lock.tryAcquire();
  while (!release) {
    if (Date.now() - start >= waitMs) throw new RegistryBusyError(dir, Date.now() - start);
    await new Promise((r) => setTimeout(r, pollMs));
    release = await lock.tryAcquire();
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
