/**
 * The monitoring tables (migration 0003) as kysely sees them: part of the
 * store's one typed schema (rows.ts Database), so monitoring-store.ts reads
 * them through `store.db` without a cast.
 */
export interface DriftAlertRow {
  model_version: string;
  day: string;
  metric: 'prediction' | 'confidence';
  psi: number;
  js: number;
  level: 'warn' | 'alert';
  n: number;
  reference_from: string;
  reference_to: string;
  created_at: string;
  updated_at: string;
}
/** Per-day counters only the ingest request knows: 'duplicate', 'rejected:<reason>', and 'stored' (events written). */
export interface QualityCountRow {
  day: string;
  kind: string;
  count: number;
}
export interface DriftReferenceRow {
  model_version: string;
  from_day: string;
  to_day: string;
  updated_at: string;
}

export interface MonitoringTables {
  drift_alerts: DriftAlertRow;
  quality_counts: QualityCountRow;
  drift_references: DriftReferenceRow;
}
