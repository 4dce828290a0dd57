import { useEngine } from './inference/useEngine.ts';
import { IdentifyPage } from './identify/IdentifyPage.tsx';

export function App() {
  const engine = useEngine();
  return (
    <div className="app">
      <header className="app-header">
        <h1>Wildsight</h1>
        <p className="engine-status" aria-live="polite" data-testid="engine-status">
          {engine.isPending && 'Loading the model…'}
          {engine.isError && <span role="alert">The model could not be loaded: {(engine.error as Error).message}</span>}
          {engine.data && (
            <>
              Model <strong data-testid="model-version">{engine.data.version}</strong> on{' '}
              <strong data-testid="backend">{engine.data.backend === 'webgpu' ? 'WebGPU' : 'WASM'}</strong>
              {engine.data.backend === 'wasm' && ` (${engine.data.threads} thread${engine.data.threads === 1 ? '' : 's'})`}
              {engine.data.fallbackReason && <span className="fallback" title={engine.data.fallbackReason}> · WebGPU not used</span>}
            </>
          )}
        </p>
      </header>
      <main>
        <IdentifyPage engineReady={engine.isSuccess} />
      </main>
      <footer className="app-footer">Photos are identified on this device; nothing is uploaded.</footer>
    </div>
  );
}
