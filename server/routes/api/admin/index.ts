/** Everything under /v1/admin/ needs the admin bearer token. */
import type { FastifyInstance } from 'fastify';
import { adminAuth } from '../../../plugins/app/admin-auth.ts';
import corrections from './corrections.ts';
import events from './events.ts';
import installs from './installs.ts';
import models from './models.ts';
import monitoring from './monitoring.ts';
import monitoringPacks from './monitoring-packs.ts';
import packs from './packs.ts';
import review from './review.ts';

export default async function admin(app: FastifyInstance, opts: { adminToken: string | null }) {
  app.addHook('onRequest', adminAuth(opts.adminToken));
  // Said in the OpenAPI document too (plugins/external/openapi.ts names the scheme).
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: [{ admin: [] }] };
  });
  await app.register(corrections);
  await app.register(events);
  await app.register(installs);
  await app.register(models);
  await app.register(monitoring);
  await app.register(monitoringPacks);
  await app.register(packs);
  await app.register(review);
}
