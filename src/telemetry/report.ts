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
 *
 * One report per observation, carrying its final fused answer: the server
 * keeps the first copy of an event id, so the report is held in the outbox
 * from the first photo, rewritten with each added photo, and released when
 * the observation is closed: a new observation starts, a correction is
 * made, no photo was added for OBSERVATION_IDLE_MS of visible page, or the
 * app is launched again.
 * A photo added after that still changes the device's answer (and the
 * correction's photoCount), not the report already sent.
 */
import type { HistoryRecord } from '../storage/db.ts';
import { correctionEvent, identificationEvent, type CorrectionInput } from './events.ts';
import { enqueue, hold, releaseHeld, updateHeld } from './outbox.ts';
import { getSettings } from './settings.ts';
import { identificationExtras } from '../inference/shadow.ts';
import type { IdentificationEvent, ShadowResult, TelemetryEvent } from '../../core/telemetry.ts';

/** Replaced by the install's id when the outbox sends (see outbox.ts). */
export const UNSTAMPED_INSTALL_ID = '00000000-0000-4000-8000-000000000000';

/**
 * After this long without another photo (the page visible) an observation is
 * taken as done and its report goes out, so reports arrive while the
 * monitoring and the rollout guard can still use them.
 */
export const OBSERVATION_IDLE_MS = 20_000;

// Holding, rewriting and releasing run one after another, in call order: the
// first photo's report waits up to 20 s for its shadow result, and a photo
// added meanwhile must rewrite it, not be overtaken by it.
let chain: Promise<unknown> = Promise.resolve();
const serial = (job: () => Promise<void>): Promise<void> => {
  const next = chain.then(job, job);
  chain = next.catch((err) => console.warn('identification report not queued', err));
  return next;
};

let idle: ReturnType<typeof setTimeout> | null = null;
/** An observation is open and its idle clock stopped while the page is hidden. */
let paused = false;
const closeLater = () => {
  if (idle) clearTimeout(idle);
  paused = false;
  idle = setTimeout(() => void closeObservation(), OBSERVATION_IDLE_MS);
};

/** Releases the held report of the open observation, if any. */
export function closeObservation(): Promise<void> {
  if (idle) clearTimeout(idle);
  idle = null;
  paused = false;
  return serial(releaseHeld);
}

if (typeof document !== 'undefined') {
  // Hidden is not closed: on a phone "Add a photo" opens the camera app, which hides the page. The clock
  // stops meanwhile and restarts on return; a page never shown again leaves its report held in the
  // outbox (IndexedDB), released at the next launch (outbox.ts startOutbox).
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && idle) {
      clearTimeout(idle);
      idle = null;
      paused = true;
    } else if (document.visibilityState === 'visible' && paused) closeLater();
  });
}

/** The fields an added photo changes: the fused answer and its photo count. */
function refreshed(event: TelemetryEvent, record: HistoryRecord): TelemetryEvent {
  if (event.type !== 'identification') return event;
  const fresh = identificationEvent(record, event.installId);
  const next: IdentificationEvent = { ...event, top5: fresh.top5, otherProbability: fresh.otherProbability, abstain: fresh.abstain };
  if (fresh.photoCount) next.photoCount = fresh.photoCount;
  // A pack asked about the photo after the first answer ("It's a bird") joins the same report.
  if (fresh.pack) next.pack = fresh.pack;
  // The shadow ran on the first photo alone: its agreement says nothing about the fused answer.
  if (fresh.photoCount) delete next.shadow;
  return next;
}

/**
 * shadow: the shadow candidate's result on this photo, as the bridge returned it with the identification.
 * observation: hold the report until the observation closes (the Identify page); otherwise it goes at once (batch).
 */
export async function reportIdentification(record: HistoryRecord, shadow?: Promise<ShadowResult | null>, { observation = false } = {}): Promise<void> {
  if (!observation) {
    const extras = await identificationExtras(record, shadow);
    if ((await getSettings()).reports !== 'granted') return;
    await enqueue([{ ...identificationEvent(record, UNSTAMPED_INSTALL_ID), ...extras }]);
    return;
  }
  // Any earlier observation is closed by this one; this one's report is held until it is.
  void closeObservation();
  closeLater();
  await serial(async () => {
    // The shadow candidate's result on this photo and the failure count (model rollouts).
    const extras = await identificationExtras(record, shadow);
    if ((await getSettings()).reports !== 'granted') return;
    await hold({ ...identificationEvent(record, UNSTAMPED_INSTALL_ID), ...extras });
  });
}

/** A photo was added to the open observation: its held report takes the new fused answer. */
export async function reportAddedPhoto(record: HistoryRecord): Promise<void> {
  closeLater();
  await serial(() => updateHeld(record.id, (e) => refreshed(e, record)));
}

export async function reportCorrection(record: HistoryRecord, input: CorrectionInput): Promise<void> {
  // A correction closes the observation: its held report goes with the final answer.
  await serial(() => updateHeld(record.id, (e) => refreshed(e, record)));
  await closeObservation();
  // Already queued or sent when reports are on: the same event id, so the server stores it once.
  await enqueue([identificationEvent(record, UNSTAMPED_INSTALL_ID), correctionEvent(record, input, UNSTAMPED_INSTALL_ID)]);
}
