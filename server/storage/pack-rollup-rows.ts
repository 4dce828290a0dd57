/**
 * The species-pack rollups (migration 0012) as kysely sees them: per pack id
 * and version, counts that only grow by addition (pack-rollups.ts keeps
 * them inside insertBatch's transaction). Dimensions (dim, key), as
 * core/pack-metrics.ts countKey names them: 'runs' '', 'routed'
 * rollup|user, 'label' the pack's top-1 taxon, 'conf' the confidence bin,
 * 'confsum' '' (the top-1 probabilities summed in millionths), 'verdict'
 * corrected|confirmed (evidence corrections, on the hour of the run they
 * correct).
 */

export interface PackCountRow {
  pack_id: string;
  pack_version: string;
  hour: string;
  dim: string;
  key: string;
  n: number;
}

/** The same per UTC day: what the dashboard and drift read. */
export interface PackDayCountRow {
  pack_id: string;
  pack_version: string;
  day: string;
  dim: string;
  key: string;
  n: number;
}

/** Runs per install, pack version and day: who passed the per-install cap (core/install-weight.ts). */
export interface PackInstallDayRow {
  pack_id: string;
  pack_version: string;
  day: string;
  install_id: string;
  n: number;
}

/** Every count of an install in a (pack, version, day) where it passed the cap: what its runs weigh less by. */
export interface PackHeavyRow {
  install_id: string;
  pack_id: string;
  pack_version: string;
  day: string;
  dim: string;
  key: string;
  n: number;
}

/**
 * What the runs retention deleted had added, per install: a later "delete
 * my data" takes them out of the counts although the raw events are gone.
 */
export interface PackRetiredRow {
  install_id: string;
  pack_id: string;
  pack_version: string;
  hour: string;
  dim: string;
  key: string;
  n: number;
}

export interface PackRollupTables {
  rollup_pack_counts: PackCountRow;
  rollup_pack_day_counts: PackDayCountRow;
  rollup_pack_install_days: PackInstallDayRow;
  rollup_pack_heavy: PackHeavyRow;
  rollup_pack_retired: PackRetiredRow;
}
