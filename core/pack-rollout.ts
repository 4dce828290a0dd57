/**
 * Which version of a downloaded species pack a device runs, from GET
 * /v1/models: while the pack has a running canary, the device's sticky
 * bucket for that rollout (core/rollout.ts, the same as the base model's)
 * picks the canary or the control; otherwise the pack's active version.
 * Null when the server names no version the device could run (an older
 * server, or a pack with none active): the device keeps what it has.
 */
import { rolloutArm, type RunningCanary } from './rollout.ts';

export interface PackVersionLike {
  id: string;
  version: string;
  status: string;
}

export interface PackChoice<P> {
  pack: P;
  /** The pack rollout that chose it, or null (the active version). */
  rolloutId: string | null;
  inCanary: boolean;
}

export function choosePackVersion<P extends PackVersionLike>(
  id: string,
  served: readonly P[],
  rollout: (RunningCanary & { state?: string }) | null | undefined,
  installId: string,
): PackChoice<P> | null {
  const versions = served.filter((p) => p.id === id);
  const find = (version: string) => versions.find((p) => p.version === version);
  if (rollout && (rollout.state ?? 'running') === 'running' && find(rollout.version) && find(rollout.controlVersion)) {
    const arm = rolloutArm(rollout, installId);
    return { pack: find(arm.version)!, rolloutId: rollout.id, inCanary: arm.inCanary };
  }
  const active = versions.find((p) => p.status === 'active');
  return active ? { pack: active, rolloutId: null, inCanary: false } : null;
}
