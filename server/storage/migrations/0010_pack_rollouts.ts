/**
 * 0010: species packs roll out through the base model's tables and guard
 * (issue #15). The rollout tables gain a `model` key: 'base' for the base
 * model (every existing row), a pack id for a species pack, so one set of
 * functions (../rollout-store.ts) keeps statuses, canaries and the change
 * log of both.
 *
 * - model_status: keyed by (model, version), since a pack's 1.0.0 is not the
 *   base model's 1.0.0. A primary key cannot be changed in place on SQLite,
 *   so the table (small: one row per version ever given a status) is copied
 *   into a new one on both backends.
 * - rollouts, model_changes: a `model` column defaulting to 'base'; one
 *   running canary per model.
 * - events: `pack_id` and `pack_version`, filled at ingest from an
 *   identification's `pack` (the species pack that answered on the same
 *   photo), so the guard reads a pack's arms through an index instead of
 *   every payload. Identifications stored before are filled here.
 */
import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { payloadField } from '../guard-rollups.ts';

/** The model key of the base model's rows. */
export const BASE_MODEL_KEY = 'base';

/**
 * Copies model_status into a new table keyed by (model, version), or back
 * into one keyed by version (the base model's rows only), then swaps it in.
 */
async function rebuildModelStatus(db: Kysely<any>, keyedByModel: boolean) {
  // Typed loosely: the builder is reassigned as the columns depend on the direction.
  let create: CreateTableBuilder<string, string> = db.schema.createTable('model_status_0010');
  create = keyedByModel
    ? create.addColumn('model', 'text', (c) => c.notNull().defaultTo(BASE_MODEL_KEY)).addColumn('version', 'text', (c) => c.notNull())
    : create.addColumn('version', 'text', (c) => c.primaryKey());
  create = create
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('candidate', 'canary', 'active', 'retired')`))
    .addColumn('shadow_rate', 'double precision')
    .addColumn('updated_at', 'text', (c) => c.notNull());
  if (keyedByModel) create = create.addPrimaryKeyConstraint('model_status_model_version_pkey', ['model', 'version']);
  await create.execute();
  await (
    keyedByModel
      ? sql`insert into model_status_0010 (model, version, status, shadow_rate, updated_at) select ${BASE_MODEL_KEY}, version, status, shadow_rate, updated_at from model_status`
      : sql`insert into model_status_0010 (version, status, shadow_rate, updated_at) select version, status, shadow_rate, updated_at from model_status where model = ${BASE_MODEL_KEY}`
  ).execute(db);
  await db.schema.dropTable('model_status').execute();
  await db.schema.alterTable('model_status_0010').renameTo('model_status').execute();
}

export function packRollouts(flavor: Flavor): Record<string, Migration> {
  return {
    '0010_pack_rollouts': {
      async up(db: Kysely<any>) {
        await rebuildModelStatus(db, true);
        for (const table of ['rollouts', 'model_changes']) {
          await db.schema
            .alterTable(table)
            .addColumn('model', 'text', (c) => c.notNull().defaultTo(BASE_MODEL_KEY))
            .execute();
        }
        await db.schema.createIndex('rollouts_model_state').on('rollouts').columns(['model', 'state', 'started_at']).execute();
        await db.schema.createIndex('model_changes_model_at').on('model_changes').columns(['model', 'at', 'id']).execute();

        await db.schema.alterTable('events').addColumn('pack_id', 'text').execute();
        await db.schema.alterTable('events').addColumn('pack_version', 'text').execute();
        // Only identifications that a pack answered carry one; the LIKE skips parsing the rest.
        await sql`update events set pack_id = ${payloadField(flavor, ['pack', 'id'], 'text')}, pack_version = ${payloadField(flavor, ['pack', 'version'], 'text')} where type = 'identification' and payload like '%"pack":{%'`.execute(
          db,
        );
        // The guard reads one pack version's identifications in a window, per install.
        await db.schema.createIndex('events_pack_type_received').on('events').columns(['pack_id', 'pack_version', 'type', 'received_at']).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('events_pack_type_received').execute();
        await db.schema.alterTable('events').dropColumn('pack_version').execute();
        await db.schema.alterTable('events').dropColumn('pack_id').execute();
        await db.schema.dropIndex('model_changes_model_at').execute();
        await db.schema.dropIndex('rollouts_model_state').execute();
        await db.deleteFrom('model_changes').where('model', '!=', BASE_MODEL_KEY).execute();
        await db.deleteFrom('rollouts').where('model', '!=', BASE_MODEL_KEY).execute();
        for (const table of ['rollouts', 'model_changes']) await db.schema.alterTable(table).dropColumn('model').execute();
        await rebuildModelStatus(db, false);
      },
    },
  };
}
