import { useQuery } from '@tanstack/react-query';

const mb = (bytes?: number) => (bytes === undefined ? '?' : `${(bytes / (1024 * 1024)).toFixed(1)} MB`);

/** Asks the browser to keep our data (models, history) and shows how much space it uses. */
export function StorageInfo() {
  const storage = useQuery({
    queryKey: ['storage'],
    networkMode: 'always',
    queryFn: async () => {
      if (!navigator.storage) return null;
      const persisted = (await navigator.storage.persisted?.()) || (await navigator.storage.persist?.()) || false;
      const estimate = await navigator.storage.estimate();
      return { persisted, usage: estimate.usage, quota: estimate.quota };
    },
  });
  if (!storage.data) return null;
  const { persisted, usage, quota } = storage.data;
  return (
    <section aria-labelledby="storage-heading">
      <h3 id="storage-heading">Storage on this device</h3>
      <p data-testid="storage-usage">
        Using {mb(usage)} of {mb(quota)} available.
      </p>
      {quota ? <progress max={quota} value={usage ?? 0} aria-label="Storage used" /> : null}
      <p>{persisted ? 'Kept: the browser will not clear the models and history to free space.' : 'Not guaranteed: the browser may clear the models and history when space runs low.'}</p>
    </section>
  );
}
