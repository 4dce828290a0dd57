/**
 * What the server knows about taxa and model versions, for GET /v1/taxa and
 * for validating events: the launch taxa from models/taxonomy.json, the
 * proposed names reviewers have accepted, and each model version's (and
 * species pack version's) embedding length from the registry manifest.
 *
 * The store and the manifest can change while the server runs (a reviewer
 * accepts a name, a model is rebuilt), so both are re-read after a short
 * time rather than once; a request never waits on more than one refresh.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { loadTaxonomy } from '../../../node/registry.ts';
import type { Taxonomy } from '../../../core/taxonomy.ts';
import type { TaxaResponse, TaxonEntry } from '../../../core/api/taxa.ts';
import { packKey, type ValidationContext } from '../../../core/telemetry.ts';
import { normalizeProposedName } from '../../../core/telemetry-facts.ts';
import { indexTaxonomy } from '../../../core/taxonomy.ts';
import { packTaxa } from '../../../core/species-pack.ts';

export interface TaxaService {
  list(): Promise<TaxaResponse>;
  validationContext(): Promise<ValidationContext>;
  /** Forget the cache (after a reviewer's decision). */
  invalidate(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    taxa: TaxaService;
  }
}

const REFRESH_MS = 10_000;

export default fp(
  async (app: FastifyInstance, opts: { taxonomyFile: string; refreshMs?: number }) => {
    const taxonomy: Taxonomy = loadTaxonomy(opts.taxonomyFile);
    const launch: TaxonEntry[] = taxonomy.taxa.map((t) => ({
      id: t.id,
      commonName: t.commonName,
      scientificName: t.scientificName,
      rank: t.rank,
      lineage: { ...t.lineage },
      source: 'launch',
    }));
    const launchIndex = indexTaxonomy(taxonomy);
    const refreshMs = opts.refreshMs ?? REFRESH_MS;

    interface Snapshot {
      at: number;
      taxa: TaxonEntry[];
      ctx: ValidationContext;
    }
    let current: Snapshot | null = null;
    let loading: Promise<Snapshot> | null = null;

    async function load(): Promise<Snapshot> {
      let names: string[];
      try {
        names = await app.store.acceptedProposedNames();
      } catch (err) {
        // The launch taxa do not depend on the database: keep serving them (and
        // the proposals known so far) and let the write itself report the outage.
        app.log.warn({ err }, 'could not read accepted proposed taxa; using the last known list');
        names = (current?.taxa ?? []).filter((t) => t.source === 'proposed').map((t) => t.commonName);
      }
      const proposed = new Map<string, TaxonEntry>();
      for (const name of names) {
        const id = normalizeProposedName(name);
        if (!proposed.has(id)) proposed.set(id, { id, commonName: name, scientificName: null, rank: null, lineage: {}, source: 'proposed' });
      }
      let manifest = null;
      try {
        manifest = app.registry.manifest();
      } catch (err) {
        app.log.warn({ err }, 'model manifest unreadable; every event will be refused as of an unknown model version');
      }
      // The species packs' taxa are known taxa too: a pack answer can be reported, confirmed and corrected.
      const known = new Set([...launch.map((t) => t.id), ...proposed.keys()]);
      const fromPacks = new Map<string, TaxonEntry>();
      for (const pack of manifest?.packs ?? []) {
        for (const t of packTaxa(pack, launchIndex)) {
          if (t && !known.has(t.id) && !fromPacks.has(t.id))
            fromPacks.set(t.id, { id: t.id, commonName: t.commonName, scientificName: t.scientificName, rank: t.rank, lineage: { ...t.lineage }, source: 'pack' });
        }
      }
      const taxa = [...launch, ...proposed.values(), ...fromPacks.values()];
      const embeddingSizes = new Map((manifest?.versions ?? []).map((v) => [v.version, v.outputs.embeddingSize] as const));
      // Every listed pack version whose entry names its embedding (older entries do not: their corrections cannot carry one).
      const packEmbeddingSizes = new Map((manifest?.packs ?? []).flatMap((p) => (p.outputs.embeddingSize ? [[packKey(p.id, p.version), p.outputs.embeddingSize] as const] : [])));
      return { at: Date.now(), taxa, ctx: { taxonIds: new Set(taxa.map((t) => t.id)), embeddingSizes, packEmbeddingSizes } };
    }

    async function snapshot(): Promise<Snapshot> {
      if (current && Date.now() - current.at < refreshMs) return current;
      loading ??= load()
        .then((s) => {
          current = s;
          return s;
        })
        .finally(() => {
          loading = null;
        });
      return loading;
    }

    app.decorate('taxa', {
      list: async () => ({ taxonomyVersion: taxonomy.version, taxa: (await snapshot()).taxa }),
      validationContext: async () => (await snapshot()).ctx,
      invalidate: () => {
        current = null;
      },
    } satisfies TaxaService);
  },
  { name: 'taxa', dependencies: ['registry', 'storage'] },
);
