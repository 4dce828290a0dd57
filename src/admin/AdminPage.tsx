/** The team's monitoring dashboard and review queue. Asks for the admin token and keeps it in sessionStorage only. */
import { lazy, Suspense, useState, type FormEvent } from 'react';
import { adminFetch, AdminError, getToken, setToken } from './api.ts';
import { ReviewQueue } from './ReviewQueue.tsx';
import './admin.css';

// chart.js loads only when someone opens the dashboard.
const Dashboard = lazy(() => import('./Dashboard.tsx'));

export function AdminPage() {
  const [token, setTokenState] = useState<string | null>(() => getToken());
  const [tab, setTab] = useState<'dashboard' | 'review'>('dashboard');
  const signOut = () => {
    setToken(null);
    setTokenState(null);
  };

  if (!token)
    return (
      <TokenForm
        onToken={(t) => {
          setToken(t);
          setTokenState(t);
        }}
      />
    );
  return (
    <section aria-labelledby="admin-heading" className="admin" data-testid="admin">
      <div className="admin-bar">
        <h2 id="admin-heading">Monitoring</h2>
        <div role="tablist" aria-label="Admin views">
          <button role="tab" aria-selected={tab === 'dashboard'} className={tab === 'dashboard' ? '' : 'secondary'} data-testid="tab-dashboard" onClick={() => setTab('dashboard')}>
            Dashboard
          </button>
          <button role="tab" aria-selected={tab === 'review'} className={tab === 'review' ? '' : 'secondary'} data-testid="tab-review" onClick={() => setTab('review')}>
            Review queue
          </button>
        </div>
        <button className="link" onClick={signOut} data-testid="admin-sign-out">
          Sign out
        </button>
      </div>
      {tab === 'dashboard' ? (
        <Suspense fallback={<p>Loading the dashboard…</p>}>
          <Dashboard onUnauthorized={signOut} />
        </Suspense>
      ) : (
        <ReviewQueue onUnauthorized={signOut} />
      )}
    </section>
  );
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await adminFetch('/v1/admin/monitoring/alerts?limit=1', { token: value.trim() });
      onToken(value.trim());
    } catch (err) {
      setError(err instanceof AdminError && err.status === 401 ? 'That token is not right.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="admin-heading" className="admin">
      <h2 id="admin-heading">Monitoring</h2>
      <form onSubmit={(e) => void submit(e)} className="admin-token">
        <label htmlFor="admin-token">Admin token</label>
        <input id="admin-token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} data-testid="admin-token" />
        <button type="submit" disabled={busy || !value.trim()} data-testid="admin-sign-in">
          Sign in
        </button>
        <p className="hint">Kept in this tab only (sessionStorage), never on disk.</p>
        {error && (
          <p role="alert" data-testid="admin-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
