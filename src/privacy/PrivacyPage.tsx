import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getSettings, resetInstallId, updateSettings } from '../telemetry/settings.ts';
import { useOutboxLength } from '../telemetry/useOutbox.ts';

/** What leaves your device, in plain words, with the switches that control it. */
export function PrivacyPage() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: ['settings'], queryFn: getSettings, networkMode: 'always' });
  const change = useMutation({
    networkMode: 'always',
    mutationFn: (fn: () => Promise<unknown>) => fn(),
    onSuccess: () => client.invalidateQueries({ queryKey: ['settings'] }),
  });
  const waiting = useOutboxLength();
  return (
    <section aria-labelledby="privacy-heading" className="privacy">
      <h2 id="privacy-heading">What leaves your device</h2>
      <ul>
        <li><strong>Your photos stay here.</strong> Identification runs on this device. A photo is only sent if you tick "share the photo" when correcting a result, and then without its location and camera data, at most 1024 pixels wide.</li>
        <li><strong>Anonymous reports</strong> of each identification help us see how the model does: the model version, how long it took, the top 5 species with their probabilities, and the hour (not the minute). No photo, no place, no name.</li>
        <li><strong>Your corrections</strong> ("Right", "Wrong", the species you pick or type) are sent with the model's numeric summary of the photo (an embedding: it cannot be turned back into the photo) so the model can learn.</li>
        <li><strong>Location</strong> is only sent if you tick it on a correction, and only as a square of about 20 × 20 km, never the exact place.</li>
        <li><strong>A random install id</strong> ties your reports together so one person's photos are not counted twice. It is not linked to you or your device, and you can replace it below.</li>
        <li>History, thumbnails and models stay on this device. Delete them from the History page.</li>
      </ul>
      {settings.data && (
        <div className="settings">
          <label>
            <input type="checkbox" checked={settings.data.shareReports} onChange={(e) => change.mutate(() => updateSettings({ shareReports: e.target.checked }))} data-testid="share-reports" />
            Send anonymous identification reports
          </label>
          <p className="hint">Install id: <code data-testid="install-id">{settings.data.installId}</code>{' '}
            <button type="button" className="secondary" onClick={() => change.mutate(resetInstallId)} data-testid="reset-install-id">Reset</button>
          </p>
        </div>
      )}
      <p data-testid="outbox-length">{waiting === null ? '' : waiting === 0 ? 'Nothing is waiting to be sent.' : `${waiting} report${waiting === 1 ? '' : 's'} waiting to be sent.`}</p>
    </section>
  );
}
