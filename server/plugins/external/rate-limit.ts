/**
 * Per-client request limit for the API, so one broken client in a retry
 * loop cannot crowd out everyone else. Counted per address in this process
 * (a deployment behind a proxy needs trustProxy so the address is the
 * client's). Registered inside the API scope only: the app shell, model
 * files, health and metrics are never limited.
 */
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../app/errors.ts';

export default fp(
  async (app: FastifyInstance, opts: { max: number }) => {
    await app.register(rateLimit, {
      max: opts.max,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, ctx) => new HttpError(429, 'too many requests', `more than ${ctx.max} requests a minute from this client; retry in ${ctx.after}`),
    });
  },
  { name: 'rate-limit' },
);
