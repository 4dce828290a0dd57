import { useEffect, useState } from 'react';
import { currentCell, type Cell } from './cell.ts';
import { ignoreByDefault, locationAllowed, setIgnoreByDefault, setLocationAllowed } from './settings.ts';

export interface LocationChoice {
  cell: Cell | null;
  ignore: boolean;
}

/**
 * Allow location for suggestions (asked of the browser only when ticked),
 * and the per-photo "Ignore location" switch, which starts at the user's
 * default for every new photo (`photoKey`).
 */
export function LocationControls({ photoKey, onChange }: { photoKey: string | null; onChange: (c: LocationChoice) => void }) {
  const [allowed, setAllowed] = useState(locationAllowed);
  const [byDefault, setByDefault] = useState(ignoreByDefault);
  const [ignore, setIgnore] = useState(byDefault);
  const [cell, setCell] = useState<Cell | null>(null);
  const [error, setError] = useState<string | null>(null);

  // A new photo starts at the default; the page hands a fresh key as each photo starts, null otherwise.
  useEffect(() => {
    if (photoKey) setIgnore(ignoreByDefault());
  }, [photoKey]);
  useEffect(() => {
    if (!allowed) {
      setCell(null);
      return;
    }
    let live = true;
    currentCell().then(
      (c) => {
        if (live) {
          setCell(c);
          setError(null);
        }
      },
      (e: Error) => {
        if (live) setError(`Location not used: ${e.message}.`);
      },
    );
    return () => {
      live = false;
    };
  }, [allowed]);
  useEffect(() => {
    onChange({ cell: allowed ? cell : null, ignore });
  }, [allowed, cell, ignore, onChange]);

  return (
    <fieldset className="location-controls" data-testid="location-controls">
      <legend>Location</legend>
      <label>
        <input
          type="checkbox"
          data-testid="allow-location"
          checked={allowed}
          onChange={(e) => {
            setAllowed(e.target.checked);
            setLocationAllowed(e.target.checked);
          }}
        />
        Use my approximate location to weigh suggestions (a square of about 20 km, kept on this device)
      </label>
      {allowed && (
        <>
          <label>
            <input type="checkbox" data-testid="ignore-location" checked={ignore} onChange={(e) => setIgnore(e.target.checked)} />
            Ignore location (garden, zoo, pet, photo of a photo)
          </label>
          <label className="secondary">
            <input
              type="checkbox"
              data-testid="ignore-location-default"
              checked={byDefault}
              onChange={(e) => {
                setByDefault(e.target.checked);
                setIgnoreByDefault(e.target.checked);
              }}
            />
            Ignore location by default for new photos
          </label>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </fieldset>
  );
}
