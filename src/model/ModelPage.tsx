import type { EngineInfo } from '../../workers/inference/types.ts';
import { StorageInfo } from '../pwa/StorageInfo.tsx';

export function ModelPage({ info }: { info: EngineInfo | undefined }) {
  return (
    <section aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      {info ? (
        <dl className="facts" data-testid="model-facts">
          <dt>Version</dt><dd>{info.version}</dd>
          <dt>Runs on</dt><dd>{info.backend === 'webgpu' ? 'WebGPU' : `WASM, ${info.threads} thread${info.threads === 1 ? '' : 's'}`}{info.crossOriginIsolated ? '' : ' (not cross-origin isolated)'}</dd>
          {info.fallbackReason && (<><dt>WebGPU</dt><dd>not used: {info.fallbackReason}</dd></>)}
          <dt>Loaded from</dt><dd data-testid="model-source">{info.modelSource === 'device' ? 'this device' : 'the network'} in {info.loadMs.toFixed(0)} ms{info.warmUpMs !== null ? `, warmed up in ${info.warmUpMs.toFixed(0)} ms` : ''}</dd>
          <dt>Knows</dt><dd>{info.labels - 1} taxa, and "not one of our species"</dd>
        </dl>
      ) : <p>Loading the model…</p>}
      <StorageInfo />
    </section>
  );
}
