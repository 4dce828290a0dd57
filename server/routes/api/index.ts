/** The JSON API under /v1/, behind the per-client rate limit. */
import type { FastifyInstance } from 'fastify';
import rateLimit from '../../plugins/external/rate-limit.ts';
import models from './models.ts';
import taxa from './taxa.ts';
import events from './events.ts';
import installs from './installs.ts';
import admin from './admin/index.ts';
import openapi from './openapi.ts';
import { compressJson } from './compress.ts';

export default async function api(app: FastifyInstance, opts: { rateLimitMax: number; adminToken: string | null; installsPerHour: number; dailyCorrectionCap: number }) {
  compressJson(app); // first, so every /v1 route below inherits it
  await app.register(rateLimit, { max: opts.rateLimitMax });
  await app.register(models);
  await app.register(taxa);
  await app.register(installs, { perHour: opts.installsPerHour });
  await app.register(events, { dailyCorrectionCap: opts.dailyCorrectionCap });
  await app.register(admin, { adminToken: opts.adminToken });
  await app.register(openapi);
}
