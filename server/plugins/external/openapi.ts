/**
 * The OpenAPI document of every route (@fastify/swagger), built from the
 * route schemas themselves (core/api/), so it cannot disagree with what the
 * server checks and sends. Registered before the routes: it collects them
 * as they are added. Served at GET /v1/openapi.json (routes/api/openapi.ts).
 */
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

export default fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Wildsight', version: '1', description: 'Feedback, model rollout and monitoring API of the Wildsight app. Errors are always JSON { error, message }.' },
        components: {
          securitySchemes: {
            install: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Install <token>` from POST /v1/installs' },
            admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, for /v1/admin/' },
          },
        },
      },
    });
  },
  { name: 'openapi' },
);
