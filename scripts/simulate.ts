/**
 * npm run simulate -- drift [--days 7] [--drift-day 5] [--per-day 5000] [--seed 1]
 *                          [--data-dir DIR | --database-url URL] [--start YYYY-MM-DD]
 *
 * Feeds synthetic telemetry into a FRESH feedback store (a temporary SQLite
 * file unless --data-dir or --database-url is given) through the same
 * validation and insert path as POST /v1/events, then runs the monitoring
 * job once and prints ONE JSON line: the days (1-based) on which a drift
 * alert fired and how many of 20 bootstrap resamples of the reference
 * period raised one.
 *
 * The world: two model versions (70% / 30% of the traffic) and a Zipf-like
 * class mix over the 100 launch taxa; from --drift-day on, half of the
 * photos are of three species and top-1 confidence falls (Beta(5,2) ->
 * Beta(3,3)). Also ~2% of identifications are corrected (more after the
 * drift), some with proposed names (which wait for a reviewer; the events
 * go straight into the store without install credentials, so none meets the
 * independent-installs rule either), ~0.3% of events carry impossible values
 * (refused, counted by reason) and ~1% of batches are delivered twice
 * (duplicates). The reference window is the days before the drift day and
 * is stored as each version's chosen reference, so the dashboard shows the
 * same thing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { seededUuid } from '../core/random.ts';
import { addDays, bootstrapReference, inWindow, rng } from '../core/drift-series.ts';
import type { IdentificationFact } from '../core/telemetry-facts.ts';
import { validateEvent, type CorrectionEvent, type IdentificationEvent, type TelemetryEvent, type ValidationContext } from '../core/telemetry.ts';
import { loadTaxonomy, readManifest } from '../node/registry.ts';
import { ensureModels } from '../node/ensure-built.ts';
import { openStore } from '../server/storage/open.ts';
import { autoAccept, computeDrift, loadIdentifications, monitoringDb, recordQuality, setReference, storeAlerts } from '../server/storage/monitoring-store.ts';

export interface DriftSimOptions {
  days: number;
  driftDay: number;
  perDay: number;
  seed: number;
  dataDir?: string;
  databaseUrl?: string;
  /** First simulated day; default: `days` days before today (UTC), so the last one is yesterday. */
  start?: string;
  resamples?: number;
}

const BACKENDS = [
  ['webgpu', 0.6, 45],
  ['wasm', 0.4, 190],
] as const;
const PROPOSED = ['Eurasian beaver', 'Red fox', 'European hedgehog', 'Common kingfisher'];

export async function simulateDrift(o: DriftSimOptions) {
  const random = rng(o.seed);
  const uuid = () => seededUuid(random);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  // Beta(a, b) for whole a, b: the a-th smallest of a + b - 1 uniforms.
  const beta = (a: number, b: number) => Array.from({ length: a + b - 1 }, random).sort((x, y) => x - y)[a - 1];
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  const manifest = readManifest();
  if (!manifest) throw new Error('no model manifest (models/registry/manifest.json)');
  const taxa = loadTaxonomy().taxa.map((t) => t.id);
  const versions = manifest.versions
    .map((v) => v.version)
    .sort()
    .reverse();
  const active = manifest.active;
  const other = versions.find((v) => v !== active);
  const traffic: Array<[string, number]> = other
    ? [
        [active, 0.7],
        [other, 0.3],
      ]
    : [[active, 1]];
  const ctx: ValidationContext = { taxonIds: new Set(taxa), embeddingSizes: new Map(manifest.versions.map((v) => [v.version, v.outputs.embeddingSize])) };

  // Class mix: Zipf-like weights over a seeded shuffle of the taxa; the drift favours three of them.
  const order = [...taxa].sort(() => random() - 0.5);
  const weights = order.map((_, i) => 1 / (i + 5));
  const focus = [order[40], order[55], order[70]];
  const sample = (ws: number[]) => {
    let r = random() * ws.reduce((a, b) => a + b, 0);
    for (let i = 0; i < ws.length; i++) if ((r -= ws[i]) <= 0) return i;
    return ws.length - 1;
  };
  const installs = Array.from({ length: 400 }, uuid);

  const dataDir = o.databaseUrl ? undefined : (o.dataDir ?? mkdtempSync(path.join(tmpdir(), 'wildsight-sim-')));
  const store = await openStore({ dataDir: dataDir ?? tmpdir(), databaseUrl: o.databaseUrl });
  const db = monitoringDb(store);
  const start = o.start ?? addDays(new Date().toISOString().slice(0, 10), -o.days);
  const dayOf = (n: number) => addDays(start, n - 1);
  let stored = 0;
  let rejected = 0;
  let duplicates = 0;

  try {
    for (let d = 1; d <= o.days; d++) {
      const drifted = d >= o.driftDay;
      const day = dayOf(d);
      for (let h = 0; h < 24; h++) {
        const hour = `${day}T${String(h).padStart(2, '0')}:00:00.000Z`;
        const batch: unknown[] = [];
        const n = Math.round(o.perDay / 24);
        for (let i = 0; i < n; i++) {
          const [modelVersion] = traffic[sample(traffic.map(([, w]) => w))];
          const truth = drifted && random() < 0.5 ? pick(focus) : order[sample(weights)];
          // The weaker version is a little less sure and a little more often wrong.
          const conf = Math.min(0.999, beta(drifted ? 3 : 5, drifted ? 3 : 2) * (modelVersion === active ? 1 : 0.95));
          const wrong = random() < (drifted ? 0.2 : 0.1);
          const top1 = wrong ? order[(order.indexOf(truth) + 1) % order.length] : truth;
          const rest = (1 - conf) * 0.6;
          const others = [truth === top1 ? order[(order.indexOf(truth) + 2) % order.length] : truth, ...[3, 4, 5].map((k) => order[(order.indexOf(top1) + k) % order.length])];
          const [backend, , median] = BACKENDS[sample(BACKENDS.map(([, w]) => w))];
          const totalMs = Math.max(1, median * Math.exp(0.35 * normal()));
          const installId = pick(installs);
          const ident: IdentificationEvent = {
            type: 'identification',
            eventId: uuid(),
            installId,
            modelVersion,
            backend,
            timings: { decodeMs: totalMs * 0.1, preprocessMs: totalMs * 0.1, inferenceMs: totalMs * 0.75, totalMs },
            top5: [{ taxonId: top1, p: conf }, ...others.map((t, k) => ({ taxonId: t, p: rest * [0.5, 0.25, 0.15, 0.1][k] }))],
            otherProbability: (1 - conf) * 0.4,
            abstain: conf < 0.3,
            appVersion: '0.1.0',
            hour,
          };
          // Impossible values, refused by validation and counted by reason.
          const bad = random();
          if (bad < 0.0015) ident.timings.totalMs = 10_000_000;
          else if (bad < 0.003) ident.otherProbability = 0.9;
          batch.push(ident);

          if (random() < (drifted ? 0.04 : 0.02)) {
            const proposed = random() < 0.05 ? pick(PROPOSED) : undefined;
            const verdict = proposed || wrong || random() < 0.5 ? 'corrected' : 'confirmed';
            // A wrong answer is corrected to the truth (a systematic confusion); otherwise users pick at random.
            const c: CorrectionEvent = {
              type: 'correction',
              eventId: uuid(),
              installId,
              correctsEventId: ident.eventId,
              verdict,
              ...(proposed ? { proposedName: proposed } : { taxonId: verdict === 'corrected' ? (wrong ? truth : pick(order)) : top1 }),
              modelVersion,
              embedding: Array.from({ length: ctx.embeddingSizes.get(modelVersion)! }, () => Math.round(normal() * 1000) / 1000),
              appVersion: '0.1.0',
              hour,
            };
            batch.push(c);
            // Now and then the same install changes its mind: a conflicting label for one identification.
            if (random() < 0.05 && c.taxonId) batch.push({ ...c, eventId: uuid(), taxonId: order[(order.indexOf(c.taxonId) + 11) % order.length] });
          }
        }
        const receivedAt = new Date(Date.parse(hour) + 10 * 60_000);
        const valid: TelemetryEvent[] = [];
        const counts: Record<string, number> = {};
        for (const e of batch) {
          const check = validateEvent(e, ctx);
          if (check.ok) valid.push(e as TelemetryEvent);
          else counts[`rejected:${check.reason}`] = (counts[`rejected:${check.reason}`] ?? 0) + 1;
        }
        const res = await store.insertBatch(valid, receivedAt);
        stored += res.stored.length;
        // A phone that lost the answer sends the batch again.
        if (random() < (0.01 * 24) / 2) {
          const again = await store.insertBatch(valid.slice(0, 20), new Date(receivedAt.getTime() + 60_000));
          counts.duplicate = (counts.duplicate ?? 0) + again.duplicates.length;
        }
        rejected += Object.entries(counts)
          .filter(([k]) => k.startsWith('rejected:'))
          .reduce((a, [, v]) => a + v, 0);
        duplicates += counts.duplicate ?? 0;
        await recordQuality(db, day, counts);
      }
    }

    // Reference: the days before the drift.
    const reference = { from: dayOf(1), to: dayOf(Math.max(1, o.driftDay - 1)) };
    for (const [v] of traffic) await setReference(db, v, reference);
    const drift = await computeDrift(db);
    await storeAlerts(db, drift.points, drift.references);
    const accepted = await autoAccept(db);
    const dayNumber = (day: string) => Math.round((Date.parse(day) - Date.parse(start)) / 86_400_000) + 1;
    const alertDays = [...new Set(drift.points.filter((p) => p.level === 'alert').map((p) => dayNumber(p.day)))].sort((a, b) => a - b);
    const warnDays = [...new Set(drift.points.filter((p) => p.level !== 'ok').map((p) => dayNumber(p.day)))].sort((a, b) => a - b);

    // Bootstrap: a day's worth of each version's reference events, drawn with replacement, scored against the reference.
    const resamples = o.resamples ?? 20;
    const ids = await loadIdentifications(db, { from: `${reference.from}T00:00:00.000Z`, to: `${addDays(reference.to, 1)}T00:00:00.000Z` });
    const raised = new Array(resamples).fill(false);
    for (const [v] of traffic) {
      const ref: IdentificationFact[] = ids.filter((e) => e.modelVersion === v && inWindow(e.hour.slice(0, 10), reference));
      const days = o.driftDay - 1;
      for (let r = 0; r < resamples; r++) {
        const one = bootstrapReference(ref, Math.round(ref.length / days), 1, o.seed * 1000 + r);
        if (one.alerts) raised[r] = true;
      }
    }
    const before = drift.points.filter((p) => dayNumber(p.day) < o.driftDay);
    const maxBefore = (m: 'prediction' | 'confidence', k: 'psi' | 'js') => Math.max(0, ...before.map((p) => p[m][k]));
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    return {
      scenario: 'drift',
      seed: o.seed,
      days: o.days,
      driftDay: o.driftDay,
      start,
      store: store.location,
      dataDir: dataDir ?? null,
      events: { stored, rejected, duplicates },
      reference: { from: 1, to: Math.max(1, o.driftDay - 1), days: reference },
      alertDays,
      warnDays,
      firstAlertDay: alertDays[0] ?? null,
      maxBeforeDrift: {
        predictionPsi: round(maxBefore('prediction', 'psi')),
        predictionJs: round(maxBefore('prediction', 'js')),
        confidencePsi: round(maxBefore('confidence', 'psi')),
        confidenceJs: round(maxBefore('confidence', 'js')),
      },
      bootstrap: { resamples, alerts: raised.filter(Boolean).length },
      autoAccepted: accepted.length,
    };
  } finally {
    await store.close();
  }
}

async function main() {
  const program = new Command('simulate').description('synthetic telemetry for monitoring');
  program
    .command('drift')
    .description('a week of telemetry with a shift in class mix and confidence from --drift-day on')
    .option('--days <n>', 'days to simulate', '7')
    .option('--drift-day <n>', 'first drifted day (1-based)', '5')
    .option('--per-day <n>', 'identifications per day', '5000')
    .option('--seed <n>', 'random seed', '1')
    .option('--data-dir <dir>', 'SQLite folder (default: a new temporary one)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite')
    .option('--start <day>', 'first day, YYYY-MM-DD (default: days before today)')
    .hook('preAction', () => ensureModels('the simulation'))
    .action(async (opts) => {
      const int = (name: string, v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1`);
        return n;
      };
      const result = await simulateDrift({
        days: int('--days', opts.days),
        driftDay: int('--drift-day', opts.driftDay),
        perDay: int('--per-day', opts.perDay),
        seed: int('--seed', opts.seed),
        dataDir: opts.dataDir ? path.resolve(opts.dataDir) : undefined,
        databaseUrl: opts.databaseUrl ?? process.env.SIMULATE_DATABASE_URL,
        start: opts.start,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
  program
    .command('abuse')
    .description('attacks on feedback, review and rollouts against a real server; one JSON line, exit 1 if any succeeds (scripts/abuse-sim.ts)')
    .option('--seed <n>', 'random seed', '1')
    .hook('preAction', () => ensureModels('the simulation'))
    .action(async (opts) => {
      await (await import('./abuse-sim.ts')).runAbuseSim(opts);
    });
  program
    .command('rollout')
    .description('many simulated rollouts through the rollout guard (scripts/rollout-sim.ts); one JSON line')
    .option('--runs <n>', 'rollouts per scenario', '200')
    .option('--seed <n>', 'random seed', '1')
    .action(async (opts) => (await import('./rollout-sim.ts')).runRolloutSim(opts));
  await program.parseAsync(process.argv);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`simulate: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
