/** The feedback store as an app service: opened (and migrated) at start, closed with the app. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { openStore, type StoreConfig } from '../../storage/open.ts';
import type { FeedbackStore } from '../../storage/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: FeedbackStore;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { store?: FeedbackStore; config: Omit<StoreConfig, 'onPoolError'> }) => {
    // A store handed in belongs to the caller, who closes it.
    const store = opts.store ?? (await openStore({ ...opts.config, onPoolError: (err) => app.log.warn({ err }, 'PostgreSQL connection dropped') }));
    if (!opts.store) app.addHook('onClose', async () => store.close());
    app.log.info({ backend: store.kind, location: store.location }, 'feedback store ready');
    app.decorate('store', store);
  },
  { name: 'storage' },
);
