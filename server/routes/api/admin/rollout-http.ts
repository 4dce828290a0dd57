/**
 * What the admin routes for the base model's rollouts (models.ts) and the
 * species packs' (packs.ts) share: the store's handle, the registry's
 * manifest (503 before models:build), the store's rollout errors turned into
 * the HTTP answer they describe, and the models view every change replies with.
 */
import type { FastifyInstance } from 'fastify';
import type { Manifest } from '../../../../core/manifest.ts';
import type { ModelsView } from '../../../../core/api/models.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { modelsView, rolloutDb, RolloutError } from '../../../storage/rollout-store.ts';

export function rolloutHttp(app: FastifyInstance) {
  const db = () => rolloutDb(app.store);
  const manifest = (): Manifest => {
    const m = app.registry.manifest();
    if (!m) throw new HttpError(503, 'no model registry yet', 'run `npm run models:build`');
    return m;
  };
  const run = async <T>(work: () => T | Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof RolloutError) throw new HttpError(err.status, err.status === 404 ? 'not found' : err.status === 400 ? 'bad request' : 'conflict', err.message);
      throw err;
    }
  };
  const view = async (): Promise<ModelsView> => modelsView(db(), manifest());
  return { db, manifest, run, view };
}
