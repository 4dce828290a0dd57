/**
 * Schema migrations, kept in code (not files found at run time) so a bundle
 * or a container carries them and their order is plain. Each migration runs
 * once per database under kysely's Migrator, which locks so that two server
 * processes starting together do not both run it.
 *
 * Never edit a migration that has shipped; add the next one: a file
 * NNNN_name.ts beside this one, spread into the list below.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { feedback } from './0001_feedback.ts';
import { rollouts } from './0002_rollouts.ts';
import { monitoring } from './0003_monitoring.ts';
import { installs } from './0004_installs.ts';
import { modelStatus } from './0005_model_status.ts';
import { jobTicks } from './0006_job_ticks.ts';
import { rollups } from './0007_rollups.ts';
import { shadowRollup } from './0008_shadow_rollup.ts';
import { packCorrections } from './0009_pack_corrections.ts';
import { packRollouts } from './0010_pack_rollouts.ts';
import { guardRollup } from './0011_guard_rollup.ts';
import { packRollups } from './0012_pack_rollups.ts';
import { jobStateInstallIssues } from './0013_job_state_install_issues.ts';
import { heavyDays } from './0014_heavy_days.ts';
import { correctionPredicted } from './0015_correction_predicted.ts';

export type Flavor = 'sqlite' | 'postgres';

function migrations(flavor: Flavor): Record<string, Migration> {
  return {
    ...feedback(flavor),
    ...rollouts(flavor),
    ...monitoring(flavor),
    ...installs(flavor),
    ...modelStatus(flavor),
    ...jobTicks(flavor),
    ...rollups(flavor),
    ...shadowRollup(flavor),
    ...packCorrections(flavor),
    ...packRollouts(flavor),
    ...guardRollup(flavor),
    ...packRollups(flavor),
    ...jobStateInstallIssues(flavor),
    ...heavyDays(flavor),
    ...correctionPredicted(flavor),
  };
}

export function migrationProvider(flavor: Flavor): MigrationProvider {
  return { getMigrations: async () => migrations(flavor) };
}

/** Brings the database to the latest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>, flavor: Flavor): Promise<void> {
  // PostgreSQL: name the schema (the search_path's first), otherwise kysely takes a
  // migration table in any other schema of the database for this one's.
  const migrationTableSchema = flavor === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  // Migrations are written on parallel branches (0009-0015 landed together), so a database made
  // between merges may have run a later one before an earlier one appeared. Each stands on its own
  // (its own tables or columns), so the missing one runs now instead of the server refusing to start.
  const migrator = new Migrator({ db, provider: migrationProvider(flavor), migrationTableSchema, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
}
