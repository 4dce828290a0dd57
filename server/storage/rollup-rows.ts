/**
 * The rollup tables (migration 0007) as kysely sees them: what monitoring,
 * drift and the dashboard read instead of raw events. Every row is a count
 * that only ever grows by addition, so rows merge by summing (an hour with
 * the next, a batch with what was there) and the ingest transaction updates
 * them with one upsert per key.
 */

/**
 * Counts per model version, hour (ISO, as stored) and dimension:
 * - dim 'label', key: the top-1 taxon or '(abstain)'; summed over keys: identifications;
 * - dim 'conf', key: the confidence bin (0-9, core/telemetry-facts.ts CONFIDENCE_BINS);
 * - dim 'lat:<backend>', key: the latency bin (core/latency-bins.ts);
 * - dim 'installs', key '': distinct installs with identifications in the hour.
 */
export interface RollupCountRow {
  model_version: string;
  hour: string;
  dim: string;
  key: string;
  n: number;
}

/** The same per UTC day ('installs': distinct installs that day): what drift and the daily dashboard read, 24 times fewer rows. */
export interface RollupDayCountRow {
  model_version: string;
  day: string;
  dim: string;
  key: string;
  n: number;
}

/** Identifications per install, version and hour: how many installs, and who passed the per-install cap in an hour. */
export interface RollupInstallHourRow {
  model_version: string;
  hour: string;
  install_id: string;
  n: number;
}

/** Identifications per install, version and UTC day: who passed the per-install cap (core/install-weight.ts) that day. */
export interface RollupInstallDayRow {
  model_version: string;
  day: string;
  install_id: string;
  n: number;
}

/**
 * The 'label' and 'conf' counts of an install in a (version, day) where it
 * passed the cap, by hour: what its events must weigh less by. Kept only
 * for those (few) installs, from the raw events of that day when it first
 * passes, then added to with each batch.
 */
export interface RollupHeavyRow {
  model_version: string;
  hour: string;
  install_id: string;
  dim: string;
  key: string;
  n: number;
}

/** rollup_heavy summed per day: what whole-day buckets read (24 times fewer rows). */
export interface RollupHeavyDayRow {
  model_version: string;
  day: string;
  install_id: string;
  dim: string;
  key: string;
  n: number;
}

/** Corrections that are evidence (grounded, within the cap) per version, hour, install and verdict. */
export interface RollupCorrectionRow {
  model_version: string;
  hour: string;
  install_id: string;
  verdict: string;
  n: number;
}

/**
 * Shadow runs (migration 0008) per shadow version and install, over every
 * stored identification that carried one: what the rollout guard and the
 * models view read (rollout-store.ts shadowInstalls), summed per install.
 * - runs: identifications with a shadow run of that version;
 * - failures: of those, shadow.failed;
 * - disagreements: neither failed nor the same top-1;
 * - top5_overlap: the sum of shadow.top5Overlap.
 */
export interface RollupShadowRow {
  shadow_version: string;
  install_id: string;
  runs: number;
  failures: number;
  disagreements: number;
  top5_overlap: number;
}

export interface RollupTables {
  rollup_counts: RollupCountRow;
  rollup_day_counts: RollupDayCountRow;
  rollup_install_hours: RollupInstallHourRow;
  rollup_install_days: RollupInstallDayRow;
  rollup_heavy: RollupHeavyRow;
  rollup_heavy_days: RollupHeavyDayRow;
  rollup_corrections: RollupCorrectionRow;
  rollup_shadow: RollupShadowRow;
}
