import { useEngine } from './inference/useEngine.ts';
import { IdentifyPage } from './identify/IdentifyPage.tsx';
import { BatchPage } from './batch/BatchPage.tsx';
import { HistoryPage } from './history/HistoryPage.tsx';
import { RecordPage } from './history/RecordPage.tsx';
import { ModelPage } from './model/ModelPage.tsx';
import { UpdatePrompt } from './pwa/UpdatePrompt.tsx';
import { useRoute, type Route } from './app/route.ts';
import { useOnline } from './app/useOnline.ts';
import { PrivacyPage } from './privacy/PrivacyPage.tsx';
import { ConsentBanner, settingsKey } from './privacy/ConsentBanner.tsx';
import { getSettings } from './telemetry/settings.ts';
import { useQuery } from '@tanstack/react-query';
import { AdminPage } from './admin/AdminPage.tsx';
import { startOutbox } from './telemetry/outbox.ts';
import { useOutboxLength } from './telemetry/useOutbox.ts';
import { useEffect } from 'react';

const NAV: Array<[Route['page'], string, string]> = [
  ['identify', '#/', 'Identify'],
  ['batch', '#/batch', 'Batch import'],
  ['history', '#/history', 'History'],
  ['model', '#/model', 'Model'],
  ['privacy', '#/privacy', 'Privacy'],
];

export function App() {
  const engine = useEngine();
  const route = useRoute();
  const online = useOnline();
  const current = route.page === 'record' ? 'history' : route.page;
  const waiting = useOutboxLength();
  const settings = useQuery({ queryKey: settingsKey, queryFn: getSettings, networkMode: 'always' });
  useEffect(() => startOutbox(), []);
  return (
    <div className="app">
      <header className="app-header">
        <h1>Wildsight</h1>
        <p className="engine-status" aria-live="polite" data-testid="engine-status">
          {engine.isPending && 'Loading the model…'}
          {engine.isError && <span role="alert">The model could not be loaded: {engine.error.message}</span>}
          {engine.data && (
            <>
              Model <strong data-testid="model-version">{engine.data.version}</strong> on <strong data-testid="backend">{engine.data.backend === 'webgpu' ? 'WebGPU' : 'WASM'}</strong>
              {engine.data.backend === 'wasm' && ` (${engine.data.threads} thread${engine.data.threads === 1 ? '' : 's'})`}
              {engine.data.fallbackReason && (
                <span className="fallback" title={engine.data.fallbackReason}>
                  {' '}
                  · WebGPU not used
                </span>
              )}
            </>
          )}
          {waiting ? (
            <>
              {' '}
              ·{' '}
              <a href="#/privacy" data-testid="outbox-badge">
                {waiting} to send
              </a>
            </>
          ) : null}
        </p>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([page, href, label]) => (
              <li key={page}>
                <a href={href} aria-current={current === page ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      {!online && (
        <div className="banner offline" role="status" data-testid="offline">
          You are offline. Identification still works on this device.
        </div>
      )}
      {engine.data?.notices.map((n) => (
        <div key={n} className="banner notice" role="status" data-testid="engine-notice">
          {n}
        </div>
      ))}
      {/* The first-run question depends on the settings read from IndexedDB: what follows the header waits for
          that read (a few ms), so the question does not push a painted page down (Lighthouse: layout shift 0.18). */}
      {settings.isPending ? null : (
        <>
          <ConsentBanner />
          <UpdatePrompt />
          <main>
            {route.page === 'identify' && <IdentifyPage engineReady={engine.isSuccess} />}
            {route.page === 'batch' && <BatchPage engineReady={engine.isSuccess} />}
            {route.page === 'history' && <HistoryPage />}
            {route.page === 'record' && <RecordPage id={route.id} />}
            {route.page === 'model' && <ModelPage info={engine.data} />}
            {route.page === 'privacy' && <PrivacyPage />}
            {route.page === 'admin' && <AdminPage />}
          </main>
          <footer className="app-footer" data-testid="footer">
            {settings.data?.reports === 'granted' ? (
              <>
                Photos are identified on this device. Anonymous reports are on (no photos, no place): <a href="#/privacy">what is sent</a>.
              </>
            ) : (
              <>
                Photos are identified on this device; nothing is sent unless you send a correction. <a href="#/privacy">Privacy</a>
              </>
            )}
          </footer>
        </>
      )}
    </div>
  );
}
