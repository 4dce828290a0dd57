import { useCallback, useEffect, useRef, useState } from 'react';
import { checkPhoto, PhotoError, PHOTO_LIMITS } from '../../core/photo-check.ts';
import { inferenceWorker } from '../inference/client.ts';
import { isFailure, type ClassifyResult } from '../../workers/inference/types.ts';
import { PhotoPicker } from './PhotoPicker.tsx';
import { ResultCard } from './ResultCard.tsx';

type State =
  | { kind: 'idle' }
  | { kind: 'working'; name: string }
  | { kind: 'done'; result: ClassifyResult }
  | { kind: 'error'; message: string };

/** Cheap checks on the page so an obviously bad file is answered at once, before the worker sees it. */
async function checkOnPage(file: File): Promise<void> {
  if (file.size > PHOTO_LIMITS.maxBytes) checkPhoto(new Uint8Array(file.size > 0 ? PHOTO_LIMITS.maxBytes + 1 : 0), file.name);
  checkPhoto(new Uint8Array(await file.arrayBuffer()), file.name);
}

export function IdentifyPage({ engineReady }: { engineReady: boolean }) {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [preview, setPreview] = useState<string | null>(null);
  const latest = useRef(0);

  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);

  const identify = useCallback(async (file: File) => {
    const ticket = ++latest.current;
    setPreview(null);
    setState({ kind: 'working', name: file.name });
    try {
      await checkOnPage(file);
      setPreview(URL.createObjectURL(file));
      const outcome = await inferenceWorker().classify(file, file.name);
      if (ticket !== latest.current) return; // a newer photo was picked meanwhile
      setState(isFailure(outcome) ? { kind: 'error', message: outcome.error.message } : { kind: 'done', result: outcome });
    } catch (err) {
      if (ticket !== latest.current) return;
      setPreview(null);
      setState({ kind: 'error', message: err instanceof PhotoError ? err.message : `Identification failed: ${(err as Error).message}` });
    }
  }, []);

  return (
    <section aria-labelledby="identify-heading" className="identify">
      <h2 id="identify-heading">Identify an animal</h2>
      <PhotoPicker onPhoto={identify} disabled={!engineReady || state.kind === 'working'} />
      <div aria-live="polite" className="identify-status">
        {state.kind === 'working' && <p role="status" data-testid="working">Identifying {state.name}…</p>}
        {state.kind === 'error' && <p role="alert" className="error" data-testid="photo-error">{state.message}</p>}
      </div>
      {(preview || state.kind === 'done') && (
        <div className="identify-result">
          {preview && <img className="photo-preview" src={preview} alt="The photo being identified" />}
          {state.kind === 'done' && <ResultCard result={state.result} />}
        </div>
      )}
    </section>
  );
}
