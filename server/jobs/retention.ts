/**
 * Retention, as an app plugin: every RETENTION_INTERVAL_MS (default an hour;
 * 0 turns the timer off), on the job scheduler (server/jobs/scheduler.ts:
 * lease plus a job_ticks row, so exactly one instance runs each tick):
 * - identification and model_status events whose hour is more than
 *   RETENTION_DAYS old are deleted. The rollups (migration 0007) already
 *   hold them, since insertBatch adds to them in its own transaction, so
 *   monitoring, drift and the dashboard read the same figures after. The
 *   rollout guard's tally (guard-rollups.ts) is taken off in the same
 *   transaction as the delete, so it still equals the raw read.
 *   Corrections, their event rows and the identifications they cite are
 *   kept: they are the training signal and what review reads, and few.
 *   Unset (or 0): raw events are kept for ever.
 * - opted-in photos that arrived more than PHOTO_RETENTION_DAYS ago are
 *   deleted on their own schedule (their corrections say has_photo 0 after).
 *   Unset (or 0): kept.
 * - the per-address counts of issued install credentials
 *   (install_issues) of past hours are deleted, whatever the settings
 *   above: only the current hour's count is read. So the job runs whenever
 *   RETENTION_INTERVAL_MS is not 0.
 *
 * RETENTION_DAYS must be over 7: a correction may wait 7 days for the
 * identification it cites (GROUNDING_WAIT_MS), and an install that passes
 * its per-day cap needs that day's raw events to fill its rollup counts.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { jobLeaseMsFromEnv, scheduleJob, type ScheduledJob } from './scheduler.ts';
import type { Database } from '../storage/rows.ts';
import { GROUNDING_WAIT_MS } from './drift.ts';
import { pruneIssueCounts } from '../storage/install-issues.ts';
import { retirePackRuns } from '../storage/pack-rollups.ts';
import { subtractDeleted } from '../storage/guard-rollups.ts';

export const RETENTION_LEASE = 'retention';
const DAY_MS = 86_400_000;
/** Rows per delete statement: short transactions, so ingest never waits long behind one. */
const DELETE_CHUNK = 5000;

export interface RetentionConfig {
  /** Raw identification and model_status events older than this many days go; null: kept. */
  retentionDays: number | null;
  /** Photos older than this many days go; null: kept. */
  photoRetentionDays: number | null;
  intervalMs: number;
  leaseMs?: number;
}

function days(env: NodeJS.ProcessEnv, name: string, min: number): number | null {
  const text = env[name]?.trim();
  if (!text || text === '0') return null;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number of days of at least ${min}, or 0 to keep for ever (got "${text}")`);
  return v;
}

export function retentionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionConfig {
  const interval = env.RETENTION_INTERVAL_MS?.trim();
  const intervalMs = interval ? Number(interval) : 3_600_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new Error(`RETENTION_INTERVAL_MS must be a number >= 0 (got "${interval}")`);
  return {
    retentionDays: days(env, 'RETENTION_DAYS', MIN_RETENTION_DAYS),
    photoRetentionDays: days(env, 'PHOTO_RETENTION_DAYS', 1),
    intervalMs,
  };
}

/** Longer than a correction may wait for its identification. */
export const MIN_RETENTION_DAYS = Math.floor(GROUNDING_WAIT_MS / DAY_MS) + 1;

export interface RetentionResult {
  events: number;
  photos: number;
}

/** One pass: deletes what is past its time; returns how many rows went. */
export async function applyRetention(db: Kysely<Database>, c: Pick<RetentionConfig, 'retentionDays' | 'photoRetentionDays'>, now = new Date()): Promise<RetentionResult> {
  const out: RetentionResult = { events: 0, photos: 0 };
  if (c.retentionDays !== null) {
    if (c.retentionDays < MIN_RETENTION_DAYS) throw new RangeError(`retention must be at least ${MIN_RETENTION_DAYS} days`);
    const cutoff = new Date(now.getTime() - c.retentionDays * DAY_MS).toISOString();
    for (;;) {
      const n = await db.transaction().execute(async (trx) => {
        const gone = await trx
          .deleteFrom('events')
          .where('event_id', 'in', (eb) =>
            eb
              .selectFrom('events')
              .select('event_id')
              .where('type', 'in', ['identification', 'model_status'])
              .where('hour', '<', cutoff)
              // An identification a correction cites stays: review, automatic acceptance and the corrected pairs read what it answered.
              .where(({ not, exists, selectFrom }) => not(exists(selectFrom('corrections as c').select('c.event_id').whereRef('c.corrects_event_id', '=', 'events.event_id'))))
              .limit(DELETE_CHUNK),
          )
          .returning(['event_id', 'type', 'install_id', 'model_version', 'received_at', 'hour', 'payload'])
          .execute();
        // What species-pack runs added stays per install, so a later "delete my data" still takes it out (pack-rollups.ts).
        await retirePackRuns(
          trx,
          gone.filter((r) => r.type === 'identification'),
        );
        // The guard's tally (migration 0011) answers as the raw events of its window do, so it sheds what went, in the same transaction.
        await subtractDeleted(trx, gone);
        return gone.length;
      });
      out.events += n;
      if (n < DELETE_CHUNK) break;
    }
  }
  if (c.photoRetentionDays !== null) {
    const cutoff = new Date(now.getTime() - c.photoRetentionDays * DAY_MS).toISOString();
    for (;;) {
      const n = await db.transaction().execute(async (trx) => {
        const ids = (await trx.selectFrom('photos').select('event_id').where('received_at', '<', cutoff).limit(DELETE_CHUNK).execute()).map((r) => r.event_id);
        if (!ids.length) return 0;
        await trx.deleteFrom('photos').where('event_id', 'in', ids).execute();
        await trx.updateTable('corrections').set({ has_photo: 0 }).where('event_id', 'in', ids).execute();
        return ids.length;
      });
      out.photos += n;
      if (n < DELETE_CHUNK) break;
    }
  }
  return out;
}

export interface RetentionService {
  config: RetentionConfig;
  /** One pass now, outside the schedule. */
  run(): Promise<RetentionResult>;
  /** Tries the scheduled tick `now` falls in (lease, tick row, pass); false when another instance has it, or the job is off. */
  runTick(now?: Date): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    retention: RetentionService;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { config?: Partial<RetentionConfig> }) => {
    const config: RetentionConfig = { ...retentionConfigFromEnv(), ...opts.config };
    const run = () => applyRetention(app.store.db, config);
    let job: ScheduledJob | null = null;
    app.decorate('retention', { config, run, runTick: (now?: Date) => job?.runTick(now) ?? Promise.resolve(false) } satisfies RetentionService);
    if (config.intervalMs <= 0) return;

    let passing = false;
    // Ticks take turns across instances (lease, then the tick's row in job_ticks), like drift and the guard.
    job = scheduleJob(app, {
      name: RETENTION_LEASE,
      intervalMs: config.intervalMs,
      leaseMs: config.leaseMs ?? jobLeaseMsFromEnv(),
      run: async () => {
        // A pass longer than the interval (a first pass over a big backlog) is not joined by the next tick's.
        if (passing) return;
        passing = true;
        try {
          const r = await run();
          if (r.events || r.photos) app.log.info(r, 'retention deleted raw events and photos past their time');
          await pruneIssueCounts(app.store);
        } catch (err) {
          app.log.warn({ err }, 'retention job failed');
        } finally {
          passing = false;
        }
      },
    });
  },
  { name: 'retention', dependencies: ['storage'] },
);
