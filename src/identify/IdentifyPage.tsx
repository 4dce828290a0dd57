import { useCallback, useEffect, useRef, useState } from 'react';
import { checkFileSize, checkPhoto, PhotoError } from '../../core/photo-check.ts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { inference } from '../inference/client.ts';
import { InferenceError, type Identified } from '../inference/bridge.ts';
import { whileBusy } from '../app/busy.ts';
import { saveRecord } from '../history/history-store.ts';
import { historyKey } from '../history/useHistory.ts';
import { photosOf, storageMessage, type HistoryRecord } from '../storage/db.ts';
import { reportAddedPhoto, reportIdentification } from '../telemetry/report.ts';
import { reportRunFailures } from '../telemetry/model-status.ts';
import { CorrectionPanel } from '../corrections/CorrectionPanel.tsx';
import { isFailure } from '../../workers/inference/types.ts';
import { PhotoPicker } from './PhotoPicker.tsx';
import { ResultCard } from './ResultCard.tsx';
import { photoFrom, startObservation, withPhoto } from '../observation/observation.ts';
import { ObservationPhotos } from '../observation/ObservationPhotos.tsx';
import { AddPhoto } from '../observation/AddPhoto.tsx';
import { LocationControls, type LocationChoice } from '../location/LocationControls.tsx';
import { locationView } from '../location/prior.ts';
import { PackAnswer } from '../packs/PackAnswer.tsx';
import { installedPacks } from '../packs/pack-state.ts';
import { occurrenceFor } from '../location/occurrence.ts';

type State = { kind: 'idle' } | { kind: 'working'; name: string } | { kind: 'done' } | { kind: 'error'; message: string };

/** The observation on screen: its record (one fused answer), its first photo (what a correction may share), and whether saving failed. */
interface Current {
  record: HistoryRecord;
  photo: File;
  saveError: string | null;
}

/** Cheap checks on the page so an obviously bad file is answered at once, before the worker sees it. */
async function checkOnPage(file: File): Promise<void> {
  checkFileSize(file.size, file.name);
  checkPhoto(new Uint8Array(await file.arrayBuffer()), file.name);
}

export function IdentifyPage({ engineReady }: { engineReady: boolean }) {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [shown, setShown] = useState<Current | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const latest = useRef(0);
  /** latest as state, for render: a new number when a photo is picked. */
  const [photoNumber, setPhotoNumber] = useState(0);
  /** The identification under way: a newer photo aborts it in the worker. */
  const current = useRef<AbortController | null>(null);
  const client = useQueryClient();
  const [place, setPlace] = useState<LocationChoice>({ cell: null, ignore: true });
  // The answering version's occurrence table, fetched only once location is allowed and used.
  const useLocation = !!place.cell && !place.ignore;
  const version = shown?.record.version ?? null;
  const { data: occurrence } = useQuery({ queryKey: ['occurrence', version], queryFn: () => occurrenceFor(version!), enabled: useLocation && !!version, staleTime: Infinity, gcTime: Infinity });

  useEffect(
    () => () => {
      if (preview) URL.revokeObjectURL(preview);
    },
    [preview],
  );

  /** Identifies a photo: a new observation, or one more photo of `into`. */
  const identify = useCallback(
    async (file: File, into?: Current) => {
      const ticket = ++latest.current;
      setPhotoNumber(ticket);
      current.current?.abort();
      const controller = new AbortController();
      current.current = controller;
      setPreview(null);
      if (!into) setShown(null);
      setState({ kind: 'working', name: file.name });
      try {
        await checkOnPage(file);
        setPreview(URL.createObjectURL(file));
        const packs = await installedPacks();
        const { item: outcome, shadow } = await whileBusy<Identified>(() => inference.identify(file, file.name, { thumbnails: true, packs }, controller.signal));
        if (ticket !== latest.current) return; // a newer photo was picked meanwhile
        if (isFailure(outcome)) {
          void reportRunFailures();
          setState({ kind: 'error', message: outcome.error.message });
          return;
        }
        let record: HistoryRecord;
        if (into) {
          // Fused from every photo's logits, by the version that answered them (the worker refuses if it changed).
          const logits = [...photosOf(into.record).map((p) => p.logits!), outcome.logits!];
          const fused = await inference.fuse(logits, outcome.version);
          if (ticket !== latest.current) return;
          record = withPhoto(into.record, photoFrom(outcome, file.name), fused);
        } else {
          record = startObservation(outcome, file.name);
        }
        let saved: string | null = null;
        try {
          await saveRecord(record);
          void client.invalidateQueries({ queryKey: historyKey });
          // One report per observation (its id is the event id), held until the observation closes; added photos rewrite it.
          if (!into) void reportIdentification(record, shadow, { observation: true });
          else void reportAddedPhoto(record);
        } catch (err) {
          saved = storageMessage(err);
        }
        setShown({ record, photo: into?.photo ?? file, saveError: saved });
        setState({ kind: 'done' });
      } catch (err) {
        if (ticket !== latest.current || (err instanceof InferenceError && err.code === 'aborted')) return;
        setPreview(null);
        // A photo that fails to join an observation leaves the observation as it was.
        const message =
          err instanceof PhotoError
            ? err.message
            : err instanceof InferenceError && err.code === 'version-changed'
              ? `This photo cannot join the observation: ${err.message}. Start a new one.`
              : `Identification failed: ${(err as Error).message}`;
        setState({ kind: 'error', message });
      }
    },
    [client],
  );

  /**
   * "It's a bird": the pack asked about the observation's first photo, its answer put on the same
   * record and the same held report. The observation, its other photos and the base answer stay;
   * no second history record or identification report for the same photo.
   */
  const askPack = useCallback(
    async (packId: string) => {
      if (!shown) return;
      const { photo } = shown;
      setState({ kind: 'working', name: photo.name });
      try {
        const packs = await installedPacks();
        const { item } = await whileBusy<Identified>(() => inference.identify(photo, photo.name, { packs, pack: packId }));
        if (isFailure(item)) {
          setState({ kind: 'error', message: item.error.message });
          return;
        }
        const record: HistoryRecord = { ...shown.record, pack: item.pack, packError: item.packError };
        let saved: string | null = null;
        try {
          await saveRecord(record);
          void client.invalidateQueries({ queryKey: historyKey });
          void reportAddedPhoto(record);
        } catch (err) {
          saved = storageMessage(err);
        }
        setShown({ ...shown, record, saveError: saved });
        setState({ kind: 'done' });
      } catch (err) {
        setState({ kind: 'error', message: `The species pack could not run: ${(err as Error).message}` });
      }
    },
    [client, shown],
  );

  return (
    <section aria-labelledby="identify-heading" className="identify">
      <h2 id="identify-heading">Identify an animal</h2>
      <PhotoPicker onPhoto={(file) => void identify(file)} disabled={!engineReady || state.kind === 'working'} />
      {/* The ignore-location choice resets per observation: when a new one starts, not when a photo is added. */}
      <LocationControls photoKey={state.kind === 'working' && !shown ? String(photoNumber) : null} onChange={setPlace} />
      <div aria-live="polite" className="identify-status">
        {state.kind === 'working' && (
          <p role="status" data-testid="working">
            Identifying {state.name}…
          </p>
        )}
        {state.kind === 'error' && (
          <p role="alert" className="error" data-testid="photo-error">
            {state.message}
          </p>
        )}
      </div>
      {(preview || shown) && (
        <div className="identify-result">
          {preview && <img className="photo-preview" src={preview} alt="The photo being identified" />}
          {shown && (
            <div>
              <ResultCard result={shown.record} location={useLocation ? locationView(place.cell!, new Date(), occurrence ?? null) : null} />
              <PackAnswer result={shown.record} onAskPack={(id) => void askPack(id)} />
              <ObservationPhotos record={shown.record} />
              {shown.saveError ? (
                <p role="alert" className="error">
                  {shown.saveError}
                </p>
              ) : (
                <p className="saved" data-testid="saved">
                  Saved to <a href={`#/history/${shown.record.id}`}>history</a>.
                </p>
              )}
              <AddPhoto record={shown.record} onPhoto={(file) => void identify(file, shown)} disabled={!engineReady || state.kind === 'working'} />
              <CorrectionPanel key={shown.record.id} record={shown.record} photo={shown.photo} onCorrected={(correction) => setShown((c) => c && { ...c, record: { ...c.record, correction } })} />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
