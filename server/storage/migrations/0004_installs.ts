/**
 * 0004: install credentials and trust in corrections.
 *
 * - installs: one row per credential the server issued (POST /v1/installs),
 *   with when, a salted hash of the client's network (never the address)
 *   and whether an admin revoked it. Events are only taken from installs
 *   listed here and not revoked.
 * - server_secrets: the HMAC key for install tokens and the salt for network
 *   hashes, generated once by whichever instance starts first.
 * - corrections.grounding: whether the correction cites a stored
 *   identification of the same install and model version ('grounded'), is
 *   waiting for it ('waiting'), or waited too long ('unverified'). Only
 *   grounded corrections count for anything.
 * - corrections.counted: 0 once the install passed its daily cap; such
 *   corrections are kept but weigh nothing.
 * - corrections.decided_by: who set the status ('reviewer' or 'auto'); a
 *   proposed name is only public and trainable when a reviewer accepted it.
 *
 * Rows from before this migration: a correction is grounded when its
 * identification is stored with the same install and version, otherwise
 * unverified; whoever accepted it earlier is unknown (null), so proposed
 * names accepted automatically by the old two-installs rule stop being
 * published until a reviewer accepts them again.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function installs(_flavor: Flavor): Record<string, Migration> {
  return {
    '0004_installs': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('installs')
          .addColumn('install_id', 'text', (c) => c.primaryKey())
          .addColumn('issued_at', 'text', (c) => c.notNull())
          .addColumn('network_hash', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addColumn('revoked_reason', 'text')
          .execute();
        await db.schema.createIndex('installs_network').on('installs').columns(['network_hash']).execute();

        await db.schema
          .createTable('server_secrets')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .alterTable('corrections')
          .addColumn('grounding', 'text', (c) =>
            c
              .notNull()
              .defaultTo('waiting')
              .check(sql`grounding in ('grounded', 'waiting', 'unverified')`),
          )
          .execute();
        await db.schema
          .alterTable('corrections')
          .addColumn('counted', 'integer', (c) => c.notNull().defaultTo(1))
          .execute();
        await db.schema.alterTable('corrections').addColumn('decided_by', 'text').execute();

        await sql`update corrections set grounding = case when exists (
            select 1 from events e where e.event_id = corrections.corrects_event_id and e.type = 'identification'
              and e.install_id = corrections.install_id and e.model_version = corrections.model_version
          ) then 'grounded' else 'unverified' end`.execute(db);

        // Per-install caps, deletion by install, and the history check read these.
        await db.schema.createIndex('corrections_install_received').on('corrections').columns(['install_id', 'received_at']).execute();
        await db.schema.createIndex('events_install_type').on('events').columns(['install_id', 'type']).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('events_install_type').execute();
        await db.schema.dropIndex('corrections_install_received').execute();
        await db.schema.alterTable('corrections').dropColumn('decided_by').execute();
        await db.schema.alterTable('corrections').dropColumn('counted').execute();
        await db.schema.alterTable('corrections').dropColumn('grounding').execute();
        await db.schema.dropTable('server_secrets').execute();
        await db.schema.dropTable('installs').execute();
      },
    },
  };
}
