import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getSettings } from '../telemetry/settings.ts';
import { useOutboxLength } from '../telemetry/useOutbox.ts';
import { answerReports, deleteMyData, resetInstall } from './actions.ts';
import { settingsKey } from './ConsentBanner.tsx';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What leaves your device, in plain words, with the switches that control it. */
export function PrivacyPage() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: settingsKey, queryFn: getSettings, networkMode: 'always' });
  const change = useMutation({
    networkMode: 'always',
    mutationFn: (fn: () => Promise<unknown>) => fn(),
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKey }),
  });
  const [deleted, setDeleted] = useState<string | null>(null);
  const [choosing, setChoosing] = useState<'granted' | 'declined' | null>(null);
  const remove = useMutation({
    networkMode: 'always',
    mutationFn: deleteMyData,
    onSuccess: (counts) => {
      setDeleted(
        counts === null
          ? 'Nothing from this device was ever sent, so there was nothing to delete.'
          : `Deleted from the server: ${plural(counts.events, 'event')} (${counts.corrections === 1 ? '1 of them a correction' : `${counts.corrections} of them corrections`}) and ${plural(counts.photos, 'photo')}. This device gets a new install id the next time it sends something.`,
      );
      void client.invalidateQueries({ queryKey: settingsKey });
    },
    onError: (err) => setDeleted(`Could not delete: ${err.message}`),
  });
  const waiting = useOutboxLength();
  const reports = settings.data?.reports;
  return (
    <section aria-labelledby="privacy-heading" className="privacy">
      <h2 id="privacy-heading">What leaves your device</h2>
      <ul>
        <li>
          <strong>Your photos stay here.</strong> Identification runs on this device. A photo is only sent if you tick "share the photo" when correcting a result, and then without its location and
          camera data, at most 1024 pixels wide.
        </li>
        <li>
          <strong>Anonymous reports</strong>, only if you say yes: for each identification, the model version, whether it ran on WebGPU or WASM, how long it took, the top 5 species with their
          probabilities, the app version and the hour (not the minute); how a trial model running unseen beside it compared; and when a model version loads, is refused or fails on this device (with a
          short reason code). No photo, no place, no name. {reports === 'unasked' && 'You have not been asked yet: nothing is sent until you answer.'}
        </li>
        <li>
          <strong>Your corrections</strong> ("Right", "Wrong", the species you pick or type) are sent when you press the button, even with reports off, together with that one identification's report,
          so the server can check the correction is about a real identification. Each carries the model's numeric summary of the photo (an embedding) so the model can learn. An embedding is not the
          photo, but it is not nothing either: with effort, a rough likeness of the photo can be partly reconstructed from it.
        </li>
        <li>
          <strong>Location</strong> is only sent if you tick it on a correction, and only as a square of about 20 × 20 km, never the exact place.
        </li>
        <li>
          <strong>An install id</strong>, random and issued by our server the first time this device sends something, ties your reports together so one person's photos are not counted as many, and so
          no one else can send in its name. It is not linked to you or your device. To tell many installs from one network apart, the server keeps a scrambled (salted hash) form of your network's
          address range (the first three parts of an IPv4 address); it does not keep or log the address itself, though whoever runs the server could work the range out from the hash. You can replace
          the id, or delete everything this device sent, below (also what it sent under ids it had before).
        </li>
        <li>History, thumbnails and models stay on this device. Delete them from the History page.</li>
      </ul>
      {settings.data && (
        <div className="settings">
          <label>
            <input
              type="checkbox"
              checked={(choosing ?? reports) === 'granted'}
              onChange={(e) => {
                const choice = e.target.checked ? 'granted' : 'declined';
                // Shown at once (a settings read already in flight would otherwise show the old answer); the stored one follows.
                setChoosing(choice);
                change.mutate(() => answerReports(choice), { onSettled: () => setChoosing(null) });
              }}
              data-testid="share-reports"
            />
            Send anonymous identification reports
          </label>
          <p className="hint">
            Install id: <code data-testid="install-id">{settings.data.credential?.installId ?? 'none yet (nothing has been sent)'}</code>{' '}
            <button type="button" className="secondary" onClick={() => change.mutate(resetInstall)} data-testid="reset-install-id">
              Reset
            </button>
          </p>
          <p>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setDeleted(null);
                remove.mutate();
              }}
              disabled={remove.isPending}
              data-testid="delete-my-data"
            >
              {remove.isPending ? 'Deleting…' : 'Delete my data from the server'}
            </button>
          </p>
          {deleted && (
            <p role="status" data-testid="delete-result">
              {deleted}
            </p>
          )}
        </div>
      )}
      <p data-testid="outbox-length">{waiting === null ? '' : waiting === 0 ? 'Nothing is waiting to be sent.' : `${waiting} report${waiting === 1 ? '' : 's'} waiting to be sent.`}</p>
    </section>
  );
}
