import type { ClassifyResult } from '../../workers/inference/types.ts';
import { LocationMark } from '../location/LocationMark.tsx';
import { withPrior, type LocationView } from '../location/prior.ts';

export type ResultView = Pick<ClassifyResult, 'top5' | 'otherProbability' | 'abstain' | 'summary' | 'version' | 'backend' | 'timings'>;

const pct = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;

export function ResultCard({ result: model, location }: { result: ResultView; location?: LocationView | null }) {
  // With location allowed and not ignored, the suggestions are reweighted by the prior and marked.
  const adjusted = location ? withPrior(model.top5, model.otherProbability, location) : null;
  const result = adjusted ? { ...model, top5: adjusted.top, otherProbability: adjusted.otherProbability } : model;
  const t = result.timings;
  return (
    <article className="result" aria-labelledby="result-summary" data-testid="result">
      <h3 id="result-summary" data-testid="summary" className={result.abstain ? 'abstain' : undefined}>
        {result.summary}
      </h3>
      <ol className="suggestions" aria-label="Top 5 suggestions">
        {result.top5.map((s) => (
          <li key={s.taxonId} data-testid="suggestion" data-taxon={s.taxonId}>
            <span className="names">
              <span className="common">{s.commonName}</span> <i className="scientific">{s.scientificName}</i>
              {s.rank !== 'species' && <span className="rank"> ({s.rank})</span>}
              <LocationMark mark={adjusted?.marks.get(s.taxonId)} />
            </span>
            <span className="bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(s.probability * 100)} aria-label={`${s.commonName} confidence`}>
              <span className="fill" style={{ width: `${Math.max(0.5, s.probability * 100)}%` }} />
            </span>
            <span className="prob">{pct(s.probability)}</span>
          </li>
        ))}
      </ol>
      <p className="other-prob">Not one of our species: {pct(result.otherProbability)}</p>
      {location && (
        <p className="location-note" data-testid="location-note">
          Weighed by your approximate location ({location.prior.realm ?? 'no realm known there'}){location.sightings ? ' and reported sightings there this month' : ''}.
        </p>
      )}
      <p className="meta" data-testid="result-meta">
        Model {result.version} · {result.backend === 'webgpu' ? 'WebGPU' : 'WASM'} · decode {t.decodeMs.toFixed(0)} ms, preprocess {t.preprocessMs.toFixed(0)} ms, inference {t.inferenceMs.toFixed(0)}{' '}
        ms
      </p>
    </article>
  );
}
