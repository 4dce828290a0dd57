/**
 * What an identification report carries beyond the answer: the shadow
 * candidate's result on the same photo (if it was sampled; the bridge hands
 * it over with the identification) and how many identifications failed with
 * that model since the last report.
 */
import type { IdentificationEvent, ShadowResult } from '../../core/telemetry.ts';
import { inference } from './client.ts';
import { recordShadow } from '../model/updater.ts';

/** The shadow runs in idle time right after the answer; never hold a report back long for it. */
const SHADOW_WAIT_MS = 20_000;

export async function identificationExtras(record: { version: string }, shadowRun: Promise<ShadowResult | null> = Promise.resolve(null)): Promise<Pick<IdentificationEvent, 'shadow' | 'errors'>> {
  const extras: Pick<IdentificationEvent, 'shadow' | 'errors'> = {};
  try {
    const shadow = await Promise.race([shadowRun, new Promise<null>((resolve) => setTimeout(() => resolve(null), SHADOW_WAIT_MS))]);
    if (shadow) {
      extras.shadow = shadow;
      recordShadow(shadow);
    }
    const errors = inference.takeErrors(record.version);
    if (errors > 0) extras.errors = Math.min(errors, 10_000);
  } catch (err) {
    console.warn('shadow result unavailable', err);
  }
  return extras;
}
