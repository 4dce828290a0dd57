import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { useQuery } from '@tanstack/react-query';
import { indexTaxonomy, type Taxonomy } from '../../core/taxonomy.ts';
import { pickerTaxa } from '../../core/picker-taxa.ts';
import { getPacks, installedPacks, subscribePacks } from '../packs/pack-state.ts';

/** The launch taxonomy; the service worker keeps a copy for offline use. */
export function useTaxonomy() {
  return useQuery({
    queryKey: ['taxonomy'],
    networkMode: 'always',
    staleTime: 60 * 60_000,
    queryFn: async () => {
      const res = await fetch('/models/taxonomy.json');
      if (!res.ok) throw new Error(`taxonomy: HTTP ${res.status}`);
      return indexTaxonomy((await res.json()) as Taxonomy);
    },
  });
}

/**
 * What the picker searches: the launch taxa and the species of every pack on
 * this device (their entries are kept in IndexedDB, so this works offline).
 * Built once per taxonomy and set of packs, not per keystroke.
 */
export function usePickerTaxa() {
  const taxonomy = useTaxonomy();
  const packs = useSyncExternalStore(subscribePacks, getPacks);
  useEffect(() => {
    void installedPacks();
  }, []);
  const data = useMemo(() => (taxonomy.data && packs.loaded ? pickerTaxa(taxonomy.data, packs.installed) : undefined), [taxonomy.data, packs.loaded, packs.installed]);
  return { data, isError: taxonomy.isError };
}
