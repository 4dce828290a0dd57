/** 0001: events, corrections and opt-in photos (the feedback store). */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function feedback(flavor: Flavor): Record<string, Migration> {
  // The only type that differs: raw bytes.
  const bytes = flavor === 'postgres' ? 'bytea' : 'blob';
  return {
    '0001_feedback': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('events')
          .addColumn('event_id', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('identification', 'correction')`))
          .addColumn('install_id', 'text', (c) => c.notNull())
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('hour', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('events_type_received').on('events').columns(['type', 'received_at', 'event_id']).execute();
        await db.schema.createIndex('events_received').on('events').columns(['received_at', 'event_id']).execute();

        await db.schema
          .createTable('corrections')
          .addColumn('event_id', 'text', (c) => c.primaryKey().references('events.event_id'))
          .addColumn('corrects_event_id', 'text', (c) => c.notNull())
          .addColumn('taxon_id', 'text')
          .addColumn('proposed_name', 'text')
          .addColumn('verdict', 'text', (c) => c.notNull().check(sql`verdict in ('confirmed', 'corrected')`))
          .addColumn('embedding', bytes, (c) => c.notNull())
          .addColumn('embedding_dim', 'integer', (c) => c.notNull())
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('install_id', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) =>
            c
              .notNull()
              .defaultTo('pending')
              .check(sql`status in ('pending', 'accepted', 'rejected')`),
          )
          .addColumn('has_photo', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('cell_lat', 'double precision')
          .addColumn('cell_lon', 'double precision')
          .addColumn('hour', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          // The same rule the API enforces, kept by the database too.
          .addCheckConstraint('corrections_taxon_xor_proposed', sql`(taxon_id is null) <> (proposed_name is null)`)
          .execute();
        await db.schema.createIndex('corrections_status_received').on('corrections').columns(['status', 'received_at', 'event_id']).execute();
        await db.schema.createIndex('corrections_received').on('corrections').columns(['received_at', 'event_id']).execute();
        await db.schema.createIndex('corrections_corrects').on('corrections').column('corrects_event_id').execute();

        await db.schema
          .createTable('photos')
          .addColumn('event_id', 'text', (c) => c.primaryKey().references('corrections.event_id'))
          .addColumn('mime_type', 'text', (c) => c.notNull())
          .addColumn('width', 'integer', (c) => c.notNull())
          .addColumn('height', 'integer', (c) => c.notNull())
          .addColumn('bytes', bytes, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('photos').execute();
        await db.schema.dropTable('corrections').execute();
        await db.schema.dropTable('events').execute();
      },
    },
  };
}
