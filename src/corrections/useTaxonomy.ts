import { useQuery } from '@tanstack/react-query';
import { indexTaxonomy, type Taxonomy } from '../../core/taxonomy.ts';

/** The taxonomy the picker searches; the service worker keeps a copy for offline use. */
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
