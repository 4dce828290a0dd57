import { useQuery } from '@tanstack/react-query';
import { engineOptionsFromUrl, inferenceWorker } from './client.ts';

/** Loads the model in the worker once per page; the result says which version and backend really run. */
export function useEngine() {
  const opts = engineOptionsFromUrl();
  return useQuery({
    queryKey: ['engine', opts],
    queryFn: () => inferenceWorker().init(opts),
    staleTime: Infinity,
    gcTime: Infinity,
    retry: 1,
    // Identification works offline: never wait for the network to load the model.
    networkMode: 'always',
  });
}
