/** The model registry on disk, as a service the routes share. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { readManifest, missingModels } from '../../../node/registry.ts';
import type { Manifest } from '../../../core/manifest.ts';

export interface RegistryService {
  dir: string;
  manifest(): Manifest | null;
  /** Files the manifest names that are missing or do not match their sha256. */
  problems(): string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    registry: RegistryService;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { registryDir: string }) => {
    const service: RegistryService = {
      dir: opts.registryDir,
      manifest: () => readManifest(opts.registryDir),
      problems: () => missingModels(readManifest(opts.registryDir), opts.registryDir),
    };
    app.decorate('registry', service);
  },
  { name: 'registry' },
);
