import { useState, useSyncExternalStore } from 'react';
import type { EngineInfo } from '../../workers/inference/types.ts';
import { StorageInfo } from '../pwa/StorageInfo.tsx';
import { PacksSection } from '../packs/PacksSection.tsx';
import { BUCKETS, getState, rollBackOnDevice, subscribe } from './updater.ts';

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function Rollout() {
  const s = useSyncExternalStore(subscribe, getState);
  const [busy, setBusy] = useState(false);
  const runningVersion = s.current?.version;
  const served = s.served?.versions.find((v) => v.version === runningVersion);
  const metrics = served?.metrics ?? s.current?.metrics;
  const a = s.assignment;
  const p = s.progress;
  const shadowStats = s.shadow ? s.shadowStats[s.shadow.version] : undefined;
  return (
    <>
      <section aria-labelledby="version-heading">
        <h3 id="version-heading">Versions</h3>
        {s.pinnedByUrl && (
          <p>
            This page was opened with <code>?model=</code>: automatic updates are off.
          </p>
        )}
        <dl className="facts" data-testid="model-rollout">
          <dt>Status on the server</dt>
          <dd data-testid="model-status">{served ? served.status : s.served ? 'not listed' : 'not known yet (offline since first start)'}</dd>
          <dt>Evaluation</dt>
          <dd data-testid="model-metrics">
            {metrics && Object.keys(metrics).length
              ? Object.entries(metrics)
                  .map(([k, v]) => `${k} ${v <= 1 ? pct(v) : v.toFixed(2)}`)
                  .join(', ')
              : 'no metrics recorded for this version'}
          </dd>
          <dt>Assignment</dt>
          <dd data-testid="model-assignment">
            {a
              ? a.rolloutId
                ? `${a.version}: ${a.inCanary ? 'in' : 'not in'} the ${s.served?.rollout?.version ?? ''} canary at ${a.percent}%`
                : `${a.version}, the active version (no canary running)`
              : 'not known yet'}
            {s.pin ? ` — rolled back on this device to ${s.pin.version}` : ''}
          </dd>
          <dt>Rollout bucket</dt>
          <dd data-testid="rollout-bucket">{a?.bucket !== null && a?.bucket !== undefined ? `${a.bucket} of ${BUCKETS} (rollout ${a.rolloutId?.slice(0, 8)})` : 'no rollout running'}</dd>
          <dt>Previous version</dt>
          <dd data-testid="model-previous">{s.previous ? `${s.previous.version}, kept on this device for rollback` : 'none kept'}</dd>
        </dl>
        {s.previous && s.current && (
          <button
            type="button"
            data-testid="use-previous"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              void rollBackOnDevice().finally(() => setBusy(false));
            }}
          >
            Go back to {s.previous.version} (works offline)
          </button>
        )}
      </section>

      {p && (
        <section aria-labelledby="update-heading" data-testid="model-update">
          <h3 id="update-heading">
            {p.role === 'shadow' ? 'Shadow candidate' : 'Update'} {p.version}
          </h3>
          {p.phase === 'downloading' && (
            <p>
              Downloading {mb(p.loaded)} of {mb(p.total)} <progress data-testid="model-download" max={p.total} value={p.loaded} aria-label={`Downloading model ${p.version}`} />
            </p>
          )}
          {p.phase === 'waiting' && <p>Downloaded and verified; switching after the current identification.</p>}
          {p.phase === 'switching' && <p>Switching to {p.version}…</p>}
        </section>
      )}

      {s.refused.length > 0 && (
        <section aria-labelledby="refused-heading">
          <h3 id="refused-heading">Refused versions</h3>
          <ul>
            {s.refused.map((r) => (
              <li key={`${r.version}-${r.sha256}`} data-testid="model-refused" data-version={r.version}>
                Model {r.version} was refused ({new Date(r.at).toLocaleString()}): {r.reason}
              </li>
            ))}
          </ul>
        </section>
      )}
      {s.lastError && (
        <p className="error" data-testid="model-update-error">
          {s.lastError}
        </p>
      )}

      <section aria-labelledby="shadow-heading">
        <h3 id="shadow-heading">Shadow evaluation</h3>
        {s.shadow ? (
          <>
            <p data-testid="shadow-status" data-state={s.shadow.state}>
              Candidate {s.shadow.version}{' '}
              {s.shadow.state === 'ready'
                ? `runs unseen on ${pct(s.shadow.sampleRate)} of identifications, in idle time`
                : s.shadow.state === 'loading'
                  ? 'is loading'
                  : `could not be loaded: ${s.shadow.message ?? ''}`}
              .
            </p>
            <p data-testid="shadow-results">
              {shadowStats && shadowStats.runs
                ? `${shadowStats.runs} run${shadowStats.runs === 1 ? '' : 's'}: top-1 agreement ${pct(shadowStats.top1Agree / shadowStats.runs)}, top-5 overlap ${(shadowStats.top5Overlap / shadowStats.runs).toFixed(1)} of 5, ${shadowStats.failures} failed, ${(shadowStats.totalMs / shadowStats.runs).toFixed(0)} ms on average`
                : 'no shadow runs yet'}
            </p>
          </>
        ) : (
          <p data-testid="shadow-status" data-state="none">
            No candidate is being evaluated on this device.
          </p>
        )}
      </section>
    </>
  );
}

export function ModelPage({ info }: { info: EngineInfo | undefined }) {
  return (
    <section aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      {info ? (
        <dl className="facts" data-testid="model-facts">
          <dt>Version</dt>
          <dd data-testid="model-active">{info.version}</dd>
          <dt>Runs on</dt>
          <dd>
            {info.backend === 'webgpu' ? 'WebGPU' : `WASM, ${info.threads} thread${info.threads === 1 ? '' : 's'}`}
            {info.crossOriginIsolated ? '' : ' (not cross-origin isolated)'}
          </dd>
          {info.fallbackReason && (
            <>
              <dt>WebGPU</dt>
              <dd>not used: {info.fallbackReason}</dd>
            </>
          )}
          <dt>Loaded from</dt>
          <dd data-testid="model-source">
            {info.modelSource === 'device' ? 'this device' : 'the network'} in {info.loadMs.toFixed(0)} ms{info.warmUpMs !== null ? `, warmed up in ${info.warmUpMs.toFixed(0)} ms` : ''}
          </dd>
          <dt>Knows</dt>
          <dd>{info.labels - 1} taxa, and "not one of our species"</dd>
        </dl>
      ) : (
        <p>Loading the model…</p>
      )}
      <Rollout />
      <PacksSection />
      <StorageInfo />
    </section>
  );
}
