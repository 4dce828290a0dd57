/**
 * Device health for the rollout guard: a model_status event as soon as a
 * version loads, is refused, will not start, or fails on identifications,
 * through the same outbox as every report (and, like identification
 * reports, only when the user said yes to anonymous reports).
 * A canary that breaks on every device sends no identification at all;
 * without these the server would never hear of it.
 */
import { truncateToHour, type Backend, type ModelOutcome, type ModelStatusEvent } from '../../core/telemetry.ts';
import { MODEL_REASON_CODES, modelReasonCode, type ModelReasonCode } from '../../core/model-health.ts';
import { enqueue } from './outbox.ts';
import { getSettings } from './settings.ts';
import { APP_VERSION } from './events.ts';
import { UNSTAMPED_INSTALL_ID } from './report.ts';
import { inference } from '../inference/client.ts';

/** "loaded" once per version per app start: enough for the guard to count this install in its arm. */
const loadedSent = new Set<string>();

const isReasonCode = (code: string | undefined): code is ModelReasonCode => (MODEL_REASON_CODES as readonly string[]).includes(code ?? '');

/**
 * code: the worker's error code (src/inference/bridge.ts) or the page's own,
 * used as the reason when it is one; the message is matched only for the
 * page's own sentences (src/model/compat.ts) and errors without a known code.
 */
export async function reportModelStatus(version: string, outcome: ModelOutcome, o: { message?: string; code?: string; count?: number; backend?: Backend } = {}): Promise<void> {
  if (outcome === 'loaded' && loadedSent.has(version)) return;
  try {
    if ((await getSettings()).reports !== 'granted') return;
    // Marked only once it is really queued: a load before the user said yes is reported at the next start.
    if (outcome === 'loaded') loadedSent.add(version);
    const event: ModelStatusEvent = {
      type: 'model_status',
      eventId: crypto.randomUUID(),
      installId: UNSTAMPED_INSTALL_ID,
      modelVersion: version,
      outcome,
      appVersion: APP_VERSION,
      hour: truncateToHour(Date.now()),
    };
    if (outcome !== 'loaded') event.reason = isReasonCode(o.code) ? o.code : o.message ? modelReasonCode(o.message) : outcome === 'run-failures' ? 'run-error' : 'other';
    if (outcome === 'run-failures') event.count = Math.max(1, Math.min(10_000, o.count ?? 1));
    if (o.backend) event.backend = o.backend;
    await enqueue([event]);
  } catch (err) {
    console.warn('model status not reported', err);
  }
}

/**
 * After an identification failed: report the failures the worker counted in
 * the model itself for the running version (a bad photo counts none), so a
 * version that fails on every photo is heard of without any identification.
 */
export async function reportRunFailures(): Promise<void> {
  try {
    // The bridge knows what the last load reported: no round trip to ask the worker what runs.
    const info = inference.info;
    if (!info) return;
    const count = inference.takeErrors(info.version);
    if (count > 0) await reportModelStatus(info.version, 'run-failures', { count, backend: info.backend });
  } catch (err) {
    console.warn('run failures not reported', err);
  }
}
