/** The Model page's species packs: what the server offers and what this device holds, with sizes; download or remove. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { SpeciesPack } from '../../core/manifest.ts';
import { getState, subscribe } from '../model/updater.ts';
import { downloadPack, getPacks, installedPacks, onDevice, removePack, subscribePacks } from './pack-state.ts';

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const speciesCount = (p: SpeciesPack) => p.labels.filter((l) => l !== 'background').length;

export function PacksSection() {
  const model = useSyncExternalStore(subscribe, getState);
  const packs = useSyncExternalStore(subscribePacks, getPacks);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    void installedPacks();
  }, []);
  // Offered by the server (as last heard, offline too) and held here, each once; the device's copy wins.
  // Of a pack's versions, the one this device would get (its rollout arm), else the active one.
  const served = model.served?.packs ?? [];
  const offered = [...new Set(served.map((p) => p.id))].flatMap((id) => packs.chosen[id] ?? served.find((p) => p.id === id && p.status === 'active') ?? []);
  const all = [...packs.installed, ...offered.filter((o) => !packs.installed.some((i) => i.id === o.id)).map(onDevice)];
  // A click handler returns nothing React would wait for: the pack is busy until the work settles.
  const act = (id: string, work: () => Promise<void>) => () => {
    setBusy(id);
    void work().finally(() => setBusy(null));
  };
  return (
    <section aria-labelledby="packs-heading" data-testid="packs">
      <h3 id="packs-heading">Species packs</h3>
      <p>A pack names species within one group. After the main model says "a bird" or "an insect", the pack on this device names the species; it works offline.</p>
      {all.length === 0 && <p data-testid="packs-none">{packs.loaded ? 'No species packs are offered yet.' : 'Loading…'}</p>}
      <ul className="packs">
        {all.map((p) => {
          const here = packs.installed.some((i) => i.id === p.id);
          const progress = packs.progress?.id === p.id ? packs.progress : null;
          return (
            <li key={p.id} data-testid="pack" data-pack={p.id} data-installed={here ? 'yes' : 'no'}>
              <strong>{p.title}</strong> ({speciesCount(p)} species, version {p.version}) · <span data-testid="pack-size">{mb(p.bytes)}</span>
              {here ? ' · on this device ' : ' '}
              {progress && <progress max={progress.total} value={progress.loaded} aria-label={`Downloading ${p.title}`} />}
              {here ? (
                <button type="button" data-testid="pack-remove" disabled={busy !== null} onClick={act(p.id, () => removePack(p))}>
                  Remove
                </button>
              ) : (
                <button type="button" data-testid="pack-download" disabled={busy !== null} onClick={act(p.id, () => downloadPack(p))}>
                  Download {mb(p.bytes)}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {packs.error && (
        <p role="alert" className="error" data-testid="packs-error">
          {packs.error}
        </p>
      )}
    </section>
  );
}
