import { useId, useMemo, useState } from 'react';
import { searchPicker, type SuggestedTaxon } from '../../core/picker-taxa.ts';
import { usePickerTaxa } from './useTaxonomy.ts';

export type Pick = { taxonId: string; label: string } | { proposedName: string; label: string };

/**
 * Search by common or scientific name, any rank, over the launch taxa and the
 * species of the packs on this device; or type the name of a species the app
 * does not know yet. `suggested` (a pack answer's top-5) are listed first.
 */
export function SpeciesPicker({ onPick, onCancel, suggested }: { onPick: (pick: Pick) => void; onCancel: () => void; suggested?: readonly SuggestedTaxon[] }) {
  const taxonomy = usePickerTaxa();
  const [query, setQuery] = useState('');
  const [typing, setTyping] = useState(false);
  const [name, setName] = useState('');
  const id = useId();
  const results = useMemo(() => (taxonomy.data ? searchPicker(taxonomy.data, query, 12, suggested) : []), [taxonomy.data, query, suggested]);

  if (typing) {
    return (
      <form
        className="picker-panel"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) onPick({ proposedName: name.trim(), label: name.trim() });
        }}
      >
        <label htmlFor={`${id}-name`}>What is it? (common or scientific name)</label>
        <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={120} autoFocus data-testid="proposed-name" />
        <div className="row">
          <button type="submit" disabled={!name.trim()}>
            Send
          </button>
          <button type="button" className="secondary" onClick={() => setTyping(false)}>
            Back to the list
          </button>
        </div>
      </form>
    );
  }
  return (
    <div className="picker-panel" role="group" aria-labelledby={`${id}-label`}>
      <label id={`${id}-label`} htmlFor={`${id}-q`}>
        What is it really?
      </label>
      <input
        id={`${id}-q`}
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        placeholder="Search: name, scientific name, group (e.g. beetle)"
        autoFocus
        data-testid="species-search"
      />
      {taxonomy.isError && (
        <p className="error" role="alert">
          The species list could not be loaded.
        </p>
      )}
      <ul className="species-results" aria-label="Matching species">
        {results.map(({ taxon: t, source }) => (
          <li key={t.id}>
            <button type="button" className="link" onClick={() => onPick({ taxonId: t.id, label: t.commonName })} data-testid="species-option" data-taxon={t.id} data-source={source}>
              {t.commonName} <i>{t.scientificName}</i>
              {t.rank !== 'species' ? ` (${t.rank})` : ''}
            </button>
          </li>
        ))}
      </ul>
      <div className="row">
        <button type="button" className="secondary" onClick={() => setTyping(true)} data-testid="none-of-these">
          None of these: type the name
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
