import { useRegisterSW } from 'virtual:pwa-register/react';
import { useBusy } from '../app/busy.ts';

/** Tells the user a new app version is waiting; applies it only when no identification is running. */
export function UpdatePrompt() {
  const busy = useBusy();
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW();
  if (!needRefresh) return null;
  return (
    <div className="banner update" role="status">
      A new version of Wildsight is ready.{' '}
      <button type="button" disabled={busy} onClick={() => void updateServiceWorker(true)}>
        {busy ? 'Reload after this photo' : 'Reload now'}
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setNeedRefresh(false)}>
        Later
      </button>
    </div>
  );
}
