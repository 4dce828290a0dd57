import { useCallback, useEffect, useRef, useState } from 'react';
import { checkFileSize, checkPhoto, PhotoError } from '../../core/photo-check.ts';
import { useQueryClient } from '@tanstack/react-query';
import { inference } from '../inference/client.ts';
import { InferenceError, type Identified } from '../inference/bridge.ts';
import { whileBusy } from '../app/busy.ts';
import { recordFrom, saveRecord } from '../history/history-store.ts';
import { historyKey } from '../history/useHistory.ts';
import { storageMessage, type HistoryRecord } from '../storage/db.ts';
import { reportIdentification } from '../telemetry/report.ts';
import { reportRunFailures } from '../telemetry/model-status.ts';
import { CorrectionPanel } from '../corrections/CorrectionPanel.tsx';
import { isFailure, type ClassifyResult } from '../../workers/inference/types.ts';
import { PhotoPicker } from './PhotoPicker.tsx';
import { ResultCard } from './ResultCard.tsx';
import { PackAnswer } from '../packs/PackAnswer.tsx';
import { installedPacks } from '../packs/pack-state.ts';

type State =
  | { kind: 'idle' }
  | { kind: 'working'; name: string }
  | { kind: 'done'; result: ClassifyResult; record: HistoryRecord; photo: File; saveError: string | null }
  | { kind: 'error'; message: string };

/** Cheap checks on the page so an obviously bad file is answered at once, before the worker sees it. */
async function checkOnPage(file: File): Promise<void> {
  checkFileSize(file.size, file.name);
  checkPhoto(new Uint8Array(await file.arrayBuffer()), file.name);
}

export function IdentifyPage({ engineReady }: { engineReady: boolean }) {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [preview, setPreview] = useState<string | null>(null);
  const latest = useRef(0);
  /** The identification under way: a newer photo aborts it in the worker. */
  const current = useRef<AbortController | null>(null);
  const client = useQueryClient();

  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);

  const identify = useCallback(async (file: File, pack?: string) => {
    const ticket = ++latest.current;
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    setPreview(null);
    setState({ kind: 'working', name: file.name });
    try {
      await checkOnPage(file);
      setPreview(URL.createObjectURL(file));
      const packs = await installedPacks();
      const { item: outcome, shadow } = await whileBusy<Identified>(() => inference.identify(file, file.name, { thumbnails: true, packs, pack }, controller.signal));
      if (ticket !== latest.current) return; // a newer photo was picked meanwhile
      if (isFailure(outcome)) {
        void reportRunFailures();
        setState({ kind: 'error', message: outcome.error.message });
        return;
      }
      const record = recordFrom(outcome, file.name);
      let saved: string | null = null;
      try {
        await saveRecord(record);
        void client.invalidateQueries({ queryKey: historyKey });
        void reportIdentification(record, shadow);
      } catch (err) {
        saved = storageMessage(err);
      }
      setState({ kind: 'done', result: outcome, record, photo: file, saveError: saved });
    } catch (err) {
      if (ticket !== latest.current || (err instanceof InferenceError && err.code === 'aborted')) return;
      setPreview(null);
      setState({ kind: 'error', message: err instanceof PhotoError ? err.message : `Identification failed: ${(err as Error).message}` });
    }
  }, [client]);

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
          {state.kind === 'done' && (
            <div>
              <ResultCard result={state.result} />
              <PackAnswer result={state.result} onAskPack={(id) => void identify(state.photo, id)} />
              {state.saveError ? <p role="alert" className="error">{state.saveError}</p> : <p className="saved" data-testid="saved">Saved to <a href={`#/history/${state.record.id}`}>history</a>.</p>}
              <CorrectionPanel key={state.record.id} record={state.record} photo={state.photo} />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
