/**
 * A species pack's answer beside the base model's, and the "It's a bird" /
 * "It's an insect" buttons that run an installed pack on the photo when the
 * base answer did not route to one.
 */
import { useEffect, useSyncExternalStore } from 'react';
import type { ClassifyResult } from '../../workers/inference/types.ts';
import { getPacks, installedPacks, subscribePacks } from './pack-state.ts';

const pct = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
const TAP: Record<string, string> = { Aves: "It's a bird", Insecta: "It's an insect" };

export function PackAnswer({ result, onAskPack, busy }: { result: Pick<ClassifyResult, 'pack' | 'packError' | 'summary'>; onAskPack?: (packId: string) => void; busy?: boolean }) {
  const packs = useSyncExternalStore(subscribePacks, getPacks);
  useEffect(() => {
    void installedPacks();
  }, []);
  const run = result.pack;
  const pack = run ? packs.installed.find((p) => p.id === run.packId) : undefined;
  return (
    <div className="pack-answer">
      {run && (
        <article data-testid="pack-result" data-pack={run.packId} data-routed-by={run.routedBy} aria-labelledby="pack-summary">
          <h4 id="pack-summary" data-testid="pack-summary">
            {run.top5[0] ? (
              <>
                Species: {run.top5[0].commonName} <i>{run.top5[0].scientificName}</i>
              </>
            ) : (
              'The pack names no species'
            )}
          </h4>
          <ol className="suggestions" aria-label="Species pack suggestions">
            {run.top5.map((s) => (
              <li key={s.taxonId} data-testid="pack-suggestion" data-taxon={s.taxonId}>
                <span className="common">{s.commonName}</span> <i className="scientific">{s.scientificName}</i> <span className="prob">{pct(s.probability)}</span>
              </li>
            ))}
          </ol>
          <p className="meta" data-testid="pack-meta">
            From the {pack?.title ?? run.packId} pack {run.packVersion} ({run.routedBy === 'user' ? 'you said so' : 'the main model saw its group'}); main model: {result.summary} · pack inference{' '}
            {run.inferenceMs.toFixed(0)} ms
          </p>
        </article>
      )}
      {result.packError && (
        <p role="alert" className="error" data-testid="pack-error">
          {result.packError}
        </p>
      )}
      {onAskPack &&
        packs.installed
          .filter((p) => p.id !== run?.packId)
          .map((p) => (
            <button key={p.id} type="button" data-testid="pack-ask" data-pack={p.id} disabled={busy} onClick={() => onAskPack(p.id)}>
              {TAP[p.routeClass] ?? `Use the ${p.title} pack`}
            </button>
          ))}
    </div>
  );
}
