/** /healthz: the process answers. /readyz: it can serve the app and its models, and store feedback. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HealthReplySchema, NotReadyReplySchema, ReadyReplySchema } from '../../core/api/health.ts';

export default async function health(app: FastifyInstance, opts: { distDir: string }) {
  app.get('/healthz', { schema: { response: { 200: HealthReplySchema } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: ReadyReplySchema, 503: NotReadyReplySchema } } }, async (_req, reply) => {
    const problems: string[] = [];
    if (!existsSync(path.join(opts.distDir, 'index.html'))) problems.push('the app is not built (run `npm run build`)');
    try {
      for (const file of app.registry.problems()) problems.push(`model file missing or altered: ${file} (run \`npm run models:build\`)`);
    } catch (err) {
      problems.push(`model registry unreadable: ${(err as Error).message}`);
    }
    try {
      await app.store.ping();
    } catch (err) {
      problems.push(`feedback database unreachable (${app.store.kind}): ${(err as Error).message}`);
    }
    if (problems.length) return reply.code(503).send({ status: 'not ready', problems });
    return { status: 'ready' };
  });
}
