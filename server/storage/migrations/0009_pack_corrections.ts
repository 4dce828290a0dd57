/**
 * 0009: a correction of a species pack's answer keeps the pack's id, version
 * and own embedding (core/telemetry.ts CorrectionEvent.pack), so the pack's
 * head can be retrained from its corrections (`pipeline -- retrain --pack`).
 * The embedding is float32 bytes like `embedding`; every column is null for a
 * correction of the base model's answer alone, which is every older row.
 */
import type { Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function packCorrections(flavor: Flavor): Record<string, Migration> {
  const bytes = flavor === 'postgres' ? 'bytea' : 'blob';
  const columns = [
    ['pack_id', 'text'],
    ['pack_version', 'text'],
    ['pack_embedding', bytes],
    ['pack_embedding_dim', 'integer'],
  ] as const;
  return {
    '0009_pack_corrections': {
      async up(db: Kysely<any>) {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for (const [name, type] of columns) await db.schema.alterTable('corrections').addColumn(name, type).execute();
        // The pack run reads one pack's corrections.
        await db.schema.createIndex('corrections_pack').on('corrections').columns(['pack_id', 'pack_version']).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('corrections_pack').execute();
        for (const [name] of [...columns].reverse()) await db.schema.alterTable('corrections').dropColumn(name).execute();
      },
    },
  };
}
