import { useRef, type ChangeEvent } from 'react';
import { photosOf, type HistoryRecord } from '../storage/db.ts';
import { canAddPhoto, MAX_OBSERVATION_PHOTOS } from './observation.ts';

/** "Add a photo of the same animal": picks (or, on a phone, takes) one more photo for the current observation. */
export function AddPhoto({ record, onPhoto, disabled }: { record: HistoryRecord; onPhoto: (file: File) => void; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const n = photosOf(record).length;
  if (!canAddPhoto(record)) {
    return n >= MAX_OBSERVATION_PHOTOS ? (
      <p className="hint" data-testid="observation-full">
        This observation has {MAX_OBSERVATION_PHOTOS} photos, the most it can hold.
      </p>
    ) : null;
  }
  const picked = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) onPhoto(file);
  };
  return (
    <div className="row add-photo">
      <button type="button" className="secondary" disabled={disabled} onClick={() => input.current?.click()} data-testid="add-photo">
        Add a photo of the same animal ({n} of {MAX_OBSERVATION_PHOTOS})
      </button>
      <input ref={input} type="file" accept="image/*" onChange={picked} hidden data-testid="add-photo-input" aria-label="Add a photo of the same animal" />
    </div>
  );
}
