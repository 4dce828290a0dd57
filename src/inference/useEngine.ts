import { useEffect, useSyncExternalStore } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { inference } from './client.ts';
import { useBusy } from '../app/busy.ts';
import { boot, engineLoaded, fetchModels, getState, MODELS_KEY, onServed, setBusy, subscribe, takeBootServed } from '../model/updater.ts';

/**
 * Loads the model in the worker; the result says which version and backend
 * really run. The version is the one this device is assigned (src/model/
 * updater.ts): kept on the device, so an offline start needs no network.
 * While online, GET /v1/models is read now and then, and a new assignment is
 * downloaded, verified and switched to between identifications.
 */
export function useEngine() {
  const start = useQuery({ queryKey: ['model-boot'], queryFn: boot, staleTime: Infinity, gcTime: Infinity, networkMode: 'always', retry: false });
  const updater = useSyncExternalStore(subscribe, getState);
  const opts = updater.options;
  const engine = useQuery({
    queryKey: ['engine', opts],
    queryFn: () => inference.init(opts!),
    enabled: !!opts,
    staleTime: Infinity,
    gcTime: Infinity,
    retry: 1,
    // Keep showing the running version while a switch settles.
    placeholderData: keepPreviousData,
    // Identification works offline: never wait for the network to load the model.
    networkMode: 'always',
  });
  const served = useQuery({
    queryKey: MODELS_KEY,
    // A first start has just read /v1/models to choose its version: use that answer rather than asking again.
    queryFn: async ({ signal }) => takeBootServed() ?? fetchModels(signal),
    enabled: start.isSuccess && !updater.pinnedByUrl,
    refetchInterval: 5 * 60_000,
    refetchOnWindowFocus: false,
    retry: 1,
  });
  const busy = useBusy();
  useEffect(() => setBusy(busy), [busy]);
  useEffect(() => {
    if (engine.data && !engine.isPlaceholderData) engineLoaded(engine.data);
  }, [engine.data, engine.isPlaceholderData]);
  useEffect(() => {
    if (served.data) void onServed(served.data).catch((err) => console.warn('model update failed', err));
  }, [served.data]);
  return engine;
}
