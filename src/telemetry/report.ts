/** What the app reports after an identification or a correction, if the user lets it. */
import type { HistoryRecord } from '../storage/db.ts';
import { correctionEvent, identificationEvent, type CorrectionInput } from './events.ts';
import { enqueue } from './outbox.ts';
import { getSettings } from './settings.ts';
import { identificationExtras } from '../inference/shadow.ts';

export async function reportIdentification(record: HistoryRecord): Promise<void> {
  // The shadow candidate's result on this photo and the failure count (model rollouts).
  const extras = await identificationExtras(record);
  const settings = await getSettings();
  if (settings.shareReports) await enqueue([{ ...identificationEvent(record, settings.installId), ...extras }]);
}

/** Corrections are what the user chose to send, so they go out even when anonymous reports are off. */
export async function reportCorrection(record: HistoryRecord, input: CorrectionInput): Promise<void> {
  const settings = await getSettings();
  await enqueue([correctionEvent(record, input, settings.installId)]);
}
