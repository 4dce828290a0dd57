/**
 * What the app reports after an identification or a correction.
 *
 * Identification reports go out only when the user said yes to anonymous
 * reports. A correction is the user's own act of sending (Right / Wrong),
 * so it goes out whatever that answer, together with the identification it
 * is about, so the server can check that it cites a real identification of
 * this install (a correction on its own counts for nothing).
 *
 * Events are queued with a placeholder install id: the outbox stamps the
 * install's server-issued id when it sends them.
 */
import type { HistoryRecord } from '../storage/db.ts';
import { correctionEvent, identificationEvent, type CorrectionInput } from './events.ts';
import { enqueue } from './outbox.ts';
import { getSettings } from './settings.ts';
import { identificationExtras } from '../inference/shadow.ts';
import type { ShadowResult } from '../../core/telemetry.ts';

/** Replaced by the install's id when the outbox sends (see outbox.ts). */
export const UNSTAMPED_INSTALL_ID = '00000000-0000-4000-8000-000000000000';

/** shadow: the shadow candidate's result on this photo, as the bridge returned it with the identification. */
export async function reportIdentification(record: HistoryRecord, shadow?: Promise<ShadowResult | null>): Promise<void> {
  // The shadow candidate's result on this photo and the failure count (model rollouts).
  const extras = await identificationExtras(record, shadow);
  if ((await getSettings()).reports !== 'granted') return;
  await enqueue([{ ...identificationEvent(record, UNSTAMPED_INSTALL_ID), ...extras }]);
}

export async function reportCorrection(record: HistoryRecord, input: CorrectionInput): Promise<void> {
  // Already queued or sent when reports are on: the same event id, so the server stores it once.
  await enqueue([identificationEvent(record, UNSTAMPED_INSTALL_ID), correctionEvent(record, input, UNSTAMPED_INSTALL_ID)]);
}
