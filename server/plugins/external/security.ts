/**
 * Security headers. Cross-origin isolation (COOP + COEP) is what lets the
 * browser give onnxruntime-web WASM threads; the CSP keeps every request on
 * this origin, so a photo cannot leave the device by a third-party script.
 */
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export default fp(
  async (app: FastifyInstance) => {
    await app.register(helmet, {
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginEmbedderPolicy: { policy: 'require-corp' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
          workerSrc: ["'self'", 'blob:'],
          imgSrc: ["'self'", 'blob:', 'data:'],
          connectSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          mediaSrc: ["'self'", 'blob:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      // Plain-HTTP localhost is the default setup; HSTS belongs to the TLS proxy in front.
      strictTransportSecurity: false,
    });
  },
  { name: 'security' },
);
