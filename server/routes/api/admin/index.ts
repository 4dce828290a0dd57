/** Everything under /v1/admin/ needs the admin bearer token. */
import type { FastifyInstance } from 'fastify';
import { adminAuth } from '../../../plugins/app/admin-auth.ts';
import corrections from './corrections.ts';
import events from './events.ts';

export default async function admin(app: FastifyInstance, opts: { adminToken: string | null }) {
  app.addHook('onRequest', adminAuth(opts.adminToken));
  await app.register(corrections);
  await app.register(events);
}
