import { useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Correction, HistoryRecord } from '../storage/db.ts';
import { setCorrection } from '../history/history-store.ts';
import { historyKey } from '../history/useHistory.ts';
import { reportCorrection } from '../telemetry/report.ts';
import type { CorrectionInput } from '../telemetry/events.ts';
import { inference } from '../inference/client.ts';
import { SpeciesPicker, type Pick } from './SpeciesPicker.tsx';

function currentPosition(): Promise<{ lat: number; lon: number }> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error('location is not available in this browser'));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      (e) => reject(new Error(e.message || 'location permission denied')),
      { enableHighAccuracy: false, maximumAge: 10 * 60_000, timeout: 15_000 },
    );
  });
}

/**
 * "Right" or "Wrong" on a result, fresh or from history. When a species
 * pack answered the photo, the question is about the pack's species: "Right"
 * confirms it, "Wrong" opens the picker with the pack's top-5 first, and
 * either correction carries the pack's id, version and embedding. Opt-ins are off by
 * default: the photo (only while the original is at hand) and an approximate
 * location (a 0.2-degree cell, never the fix itself). On an observation of
 * several photos it is one correction for all of them.
 */
export function CorrectionPanel({ record, photo, onCorrected }: { record: HistoryRecord; photo?: Blob; onCorrected?: (c: Correction) => void }) {
  const client = useQueryClient();
  const [picking, setPicking] = useState(false);
  const [sharePhoto, setSharePhoto] = useState(false);
  const [shareLocation, setShareLocation] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const done = record.correction;
  const species = record.pack?.top5[0];
  // What "Right" confirms: the pack's species when a pack answered, else the base answer unless it declined.
  const confirm = species ? { taxonId: species.taxonId, commonName: species.commonName } : record.abstain ? null : { taxonId: record.top5[0].taxonId, commonName: record.top5[0].commonName };
  const suggested = useMemo(() => record.pack?.top5.map((s) => ({ id: s.taxonId, commonName: s.commonName, scientificName: s.scientificName, rank: s.rank })), [record.pack]);

  /** label: what the status line says it was recorded as; name: the taxon's common name, kept with the correction for history. */
  const send = async (input: CorrectionInput, label: string, name?: string) => {
    setBusy(true);
    setStatus(null);
    try {
      if (sharePhoto && photo) input.photo = { mimeType: 'image/jpeg', ...(await inference.shareablePhoto(photo)) };
      if (shareLocation) {
        try {
          input.position = await currentPosition();
        } catch (err) {
          setStatus(`Sent without location: ${(err as Error).message}.`);
        }
      }
      await reportCorrection(record, input);
      const correction: Correction = { verdict: input.verdict, taxonId: input.taxonId, proposedName: input.proposedName, label: name, at: Date.now() };
      await setCorrection(record.id, correction);
      onCorrected?.(correction);
      await client.invalidateQueries({ queryKey: historyKey });
      setPicking(false);
      setStatus((s) => s ?? `Thanks: recorded as ${label}. It will be sent when online.`);
    } catch (err) {
      setStatus(`Could not record the correction: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const picked = (p: Pick) => void send('taxonId' in p ? { verdict: 'corrected', taxonId: p.taxonId } : { verdict: 'corrected', proposedName: p.proposedName }, p.label, p.label);

  return (
    <section className="correction" aria-label="Is this right?" data-testid="correction">
      {done && !status && (
        <p className="hint" data-testid="correction-done">
          You marked this {done.verdict === 'confirmed' ? 'right' : `as ${done.proposedName ?? done.label ?? done.taxonId}`}.
        </p>
      )}
      {!picking && (
        <div className="row">
          {confirm ? (
            <>
              <span>
                {species ? (
                  <>
                    Is it a {species.commonName}? <i>{species.scientificName}</i>
                  </>
                ) : (
                  'Is this right?'
                )}
              </span>
              <button
                type="button"
                disabled={busy}
                onClick={() => void send({ verdict: 'confirmed', taxonId: confirm.taxonId }, 'right', confirm.commonName)}
                data-testid="right"
                data-taxon={confirm.taxonId}
              >
                Right
              </button>
            </>
          ) : (
            <span>Do you know what it is?</span>
          )}
          <button type="button" disabled={busy} className={confirm ? 'secondary' : undefined} onClick={() => setPicking(true)} data-testid="wrong">
            {confirm ? 'Wrong' : 'Name it'}
          </button>
        </div>
      )}
      {picking && <SpeciesPicker onPick={picked} onCancel={() => setPicking(false)} suggested={suggested} />}
      <fieldset className="opt-ins">
        <legend>Also share (off unless you tick them)</legend>
        <label>
          <input type="checkbox" checked={sharePhoto} disabled={!photo} onChange={(e) => setSharePhoto(e.target.checked)} data-testid="share-photo" />
          The photo {photo ? '(location and camera data removed, at most 1024 px)' : '(not kept on this device after identification)'}
        </label>
        <label>
          <input type="checkbox" checked={shareLocation} onChange={(e) => setShareLocation(e.target.checked)} data-testid="share-location" />
          Approximate location (a square of about 20 km, never the exact place)
        </label>
      </fieldset>
      {status && (
        <p role="status" data-testid="correction-status">
          {status}
        </p>
      )}
    </section>
  );
}
