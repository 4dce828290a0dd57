/**
 * The rollout tables (migrations 0002 and 0005) as kysely sees them: part of
 * the store's one typed schema (rows.ts Database), so rollout-store.ts reads
 * them through `store.db` without a cast.
 */
import type { ModelStatus, RolloutState } from '../../core/api/models.ts';

export interface ModelStatusRow {
  /** 'base' for the base model, else a species pack's id (migration 0010). */
  model: string;
  version: string;
  status: ModelStatus;
  shadow_rate: number | null;
  updated_at: string;
}
export interface RolloutRow {
  id: string;
  /** 'base' or a pack id (migration 0010); one running canary per model. */
  model: string;
  version: string;
  control_version: string;
  percent: number;
  state: RolloutState;
  plan: string;
  started_at: string;
  stepped_at: string;
  ended_at: string | null;
  /** Percent of devices kept on the control at the plan's last step (migration 0005). */
  holdback: number;
}
export interface ModelChangeRow {
  id: string;
  /** 'base' or a pack id (migration 0010). */
  model: string;
  at: string;
  action: string;
  version: string | null;
  rollout_id: string | null;
  percent: number | null;
  actor: string;
  reason: string;
  details: string | null;
}
export interface JobLeaseRow {
  name: string;
  owner: string | null;
  expires_at: string;
}

export interface RolloutTables {
  model_status: ModelStatusRow;
  rollouts: RolloutRow;
  model_changes: ModelChangeRow;
  job_leases: JobLeaseRow;
}
