/**
 * Sticky rollout buckets. A device's bucket is a hash of its install id and
 * the rollout id, so it never changes during a rollout: raising the
 * percentage only adds devices, it never moves one out. A new rollout id
 * reshuffles, so the same devices are not always first.
 */

export const BUCKETS = 10_000;

/** UTF-8 bytes without TextEncoder's allocation for plain ASCII ids. */
function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** MurmurHash3 (x86, 32-bit): fast, well mixed, the same in every runtime. */
export function murmur3(text: string, seed = 0): number {
  const data = utf8(text);
  let h = seed >>> 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blocks = data.length >> 2;
  for (let i = 0; i < blocks; i++) {
    const j = i * 4;
    let k = data[j] | (data[j + 1] << 8) | (data[j + 2] << 16) | (data[j + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks * 4;
  switch (data.length & 3) {
    case 3:
      k ^= data[tail + 2] << 16; // falls through
    case 2:
      k ^= data[tail + 1] << 8; // falls through
    case 1:
      k ^= data[tail];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The device's bucket in [0, BUCKETS) for this rollout. */
export function rolloutBucket(installId: string, rolloutId: string): number {
  return murmur3(`${rolloutId}:${installId}`) % BUCKETS;
}

/** In the rollout at `percent` (0..100, up to two decimals) when the bucket is below percent% of the buckets. */
export function inRollout(installId: string, rolloutId: string, percent: number): boolean {
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`rollout percentage must be within 0..100, got ${percent}`);
  return rolloutBucket(installId, rolloutId) < Math.round(percent * (BUCKETS / 100));
}

/**
 * Share of devices kept on the control version until promotion (percent).
 * Promotion must show the canary no worse than a control that is still
 * there; at a plan's 100% step with no holdback there would be none.
 */
export const DEFAULT_HOLDBACK_PERCENT = 5;

/** The share of devices that run the canary at plan step `stepPercent`: the step, less the holdback. */
export function canaryShare(stepPercent: number, holdbackPercent = DEFAULT_HOLDBACK_PERCENT): number {
  if (!(holdbackPercent >= 0 && holdbackPercent < 100)) throw new RangeError(`holdback must be within 0..100 (exclusive of 100), got ${holdbackPercent}`);
  return Math.min(stepPercent, 100 - holdbackPercent);
}

/** What a device needs of a running canary to pick its arm (GET /v1/models' `rollout`, or a pack's). */
export interface RunningCanary {
  id: string;
  version: string;
  controlVersion: string;
  /** The share of devices that run the canary (the step less the holdback). */
  percent: number;
}

/** The device's arm of a canary: its sticky bucket, and the canary's version or the control's. */
export function rolloutArm(r: RunningCanary, installId: string): { version: string; inCanary: boolean; bucket: number } {
  const inCanary = inRollout(installId, r.id, r.percent);
  return { version: inCanary ? r.version : r.controlVersion, inCanary, bucket: rolloutBucket(installId, r.id) };
}
