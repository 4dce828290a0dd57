/**
 * npm run pipeline -- <command>
 *   retrain   accepted corrections + ../shared photos -> gated candidate version
 *   watch     retrain when --threshold new accepted corrections arrived (watches take turns under the retrain-watch job lease)
 *   retrain --pack <id>  the same for a species pack's head (its active version, corrections of its answers)
 *   scenario  new-taxa | poisoned | base-only | few-installs | pack-birds | pack-birds-poisoned, end to end through the real server; prints one JSON line
 *   curve     held-out recall of new taxa by corrections per taxon (1, 2, 3, 5, 10, 20), and the effect on launch taxa
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { openStore } from '../server/storage/open.ts';
import { REGISTRY_DIR, REPO_ROOT } from '../node/paths.ts';
import { retrain, type RetrainOptions, type RetrainResult } from './retrain.ts';
import { countAccepted, databaseState, fileState, releaseWatch, tick } from './watch.ts';
import { instanceOwner } from '../server/jobs/lease.ts';
import { jobLeaseMsFromEnv } from '../server/jobs/scheduler.ts';
import { runScenario, type ScenarioName } from './scenario.ts';
import { PACK_SCENARIOS, runPackScenario, type PackScenarioName } from './pack-scenario.ts';
import { retrainPack } from './pack-retrain.ts';
import { CURVE_SIZES, curveMarkdown, runCurve } from './curve.ts';
import type { CurveRow } from './report.ts';
import { ensureModels } from '../node/ensure-built.ts';

/** Where `curve` leaves its rows, and where `retrain` looks for them to draw in its report. */
const CURVE_FILE = path.join(REPO_ROOT, 'reports', 'curve', 'latest.json');
const readCurve = (file: string): CurveRow[] | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: CurveRow[] }).rows : undefined);

const program = new Command().name('pipeline').description('Wildsight retraining pipeline: from accepted user corrections to a gated candidate model version');
// Every subcommand starts from the built registry. models:build writes only
// the default one (models/registry, or WILDSIGHT_REGISTRY), so a registry
// named with --registry is the caller's to provide.
program.hook('preAction', (_program, action) => {
  const registry = action.opts<{ registry?: string }>().registry;
  if (registry === undefined || path.resolve(registry) === REGISTRY_DIR) ensureModels('the pipeline');
});

function progressBars() {
  const multi = new cliProgress.MultiBar({ format: '{stage} [{bar}] {value}/{total}', clearOnComplete: true, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    progress: (stage: string, done: number, total: number) => {
      let bar = bars.get(stage);
      if (!bar) {
        bar = multi.create(total, 0, { stage: stage.padEnd(8) });
        bars.set(stage, bar);
      }
      bar.setTotal(total);
      bar.update(done);
    },
    log: (line: string) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

interface StoreOpts {
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  registry: string;
  writeTrackedManifest?: boolean;
}

const storeOptions = (cmd: Command) =>
  cmd
    .option('--data-dir <dir>', 'SQLite feedback store folder (DATA_DIR)', process.env.DATA_DIR ?? './data')
    .option('--database-url <url>', 'PostgreSQL feedback store instead (DATABASE_URL)', process.env.DATABASE_URL)
    .option('--database-schema <schema>', 'PostgreSQL schema (DATABASE_SCHEMA)', process.env.DATABASE_SCHEMA)
    .option('--registry <dir>', 'model registry (default WILDSIGHT_REGISTRY, else models/registry)', REGISTRY_DIR)
    .option('--write-tracked-manifest', 'allow registering into the tracked models/registry (its manifest is committed); otherwise set WILDSIGHT_REGISTRY');

const trainOptions = (cmd: Command) =>
  cmd
    .option('--base-only', 'no corrections: a head from the ../shared photos alone (registered only if it beats the current version)')
    .option('--tiny-imagenet', 'also use tiny-imagenet-animals (6,000 photos) in the base set')
    .option('--min-per-class <n>', 'classes with fewer accepted corrections are held back', (v) => Number(v), 3)
    .option('--max-suspicious <share>', 'refuse the batch when more than this share of corrections looks poisoned', (v) => Number(v), 0.15)
    .option('--epochs <n>', 'epochs of the joint stage (all rows, regularized toward the current head; default 10 when corrections name launch taxa or --base-only, else 0)', (v) => Number(v))
    .option('--new-taxa-epochs <n>', 'epochs of the new-taxa stage', (v) => Number(v), 40)
    .option('--lr <rate>', 'joint-stage learning rate', (v) => Number(v), 1e-4)
    .option('--lambda <l2>', 'joint-stage L2 strength toward the current head', (v) => Number(v), 1)
    .option('--seed <n>', 'random seed', (v) => Number(v), 1)
    .option('--out <dir>', 'run folders go here', path.join(REPO_ROOT, 'reports', 'retrain'))
    .option('--no-register', 'evaluate and gate, but register nothing')
    .option('--threads <n>', 'onnxruntime threads', (v) => Number(v), 2)
    .option('--curve <file>', 'a `pipeline -- curve` result to draw in the report', CURVE_FILE)
    .option('--pack <id>', 'retrain a species pack\'s head instead (e.g. inat-birds): its active version, on accepted corrections of its answers (see README "Retraining a species pack")');

type TrainCli = StoreOpts & {
  curve: string;
  baseOnly?: boolean;
  tinyImagenet?: boolean;
  minPerClass: number;
  maxSuspicious: number;
  epochs?: number;
  newTaxaEpochs: number;
  lr: number;
  lambda: number;
  seed: number;
  out: string;
  register: boolean;
  threads: number;
  pack?: string;
};

/** The one JSON line `retrain` prints: where it started, what it decided, and what each new taxon still needs. */
function summaryLine(r: RetrainResult) {
  return {
    run: r.runId,
    runDir: r.runDir,
    parent: r.parent,
    parentSource: r.parentSource,
    registered: r.registered,
    version: r.version,
    gate: r.gate?.pass ?? false,
    reasons: r.reasons.length ? r.reasons : r.gate?.reasons,
    counts: r.counts,
    nonRegression: r.sharedLabels && {
      photos: r.sharedLabels.n,
      top1: [r.sharedLabels.current.top1, r.sharedLabels.candidate.top1],
      change: r.sharedLabels.top1Change,
      mcnemar: r.sharedLabels.mcnemar,
      eceChange: r.sharedLabels.eceChange,
    },
    newTaxa: r.newTaxaDecisions.map((d) => ({ id: d.id, status: d.status, installs: d.installs, heldOut: d.heldOut, needs: d.needs })),
    temperature: r.temperature,
    temperatureSource: r.temperatureSource,
  };
}

async function runRetrainFromCli(o: TrainCli) {
  const ui = progressBars();
  const store = await openStore({ dataDir: path.resolve(o.dataDir), databaseUrl: o.databaseUrl, databaseSchema: o.databaseSchema });
  try {
    const opts: RetrainOptions = {
      store,
      registryDir: path.resolve(o.registry),
      writeTrackedManifest: o.writeTrackedManifest,
      baseOnly: o.baseOnly,
      tinyImagenet: o.tinyImagenet,
      minPerClass: o.minPerClass,
      maxSuspiciousShare: o.maxSuspicious,
      epochs: o.epochs,
      newTaxaEpochs: o.newTaxaEpochs,
      learningRate: o.lr,
      lambda: o.lambda,
      seed: o.seed,
      outDir: path.resolve(o.out),
      register: o.register,
      threads: o.threads,
      log: ui.log,
      progress: ui.progress,
      curve: readCurve(path.resolve(o.curve)),
    };
    return await retrain(opts);
  } finally {
    ui.stop();
    await store.close();
  }
}

/** `retrain --pack <id>`: the pack's head, same checks, trainer and gate; prints one JSON line. */
async function runPackRetrainFromCli(o: TrainCli & { pack: string }) {
  const ui = progressBars();
  const store = await openStore({ dataDir: path.resolve(o.dataDir), databaseUrl: o.databaseUrl, databaseSchema: o.databaseSchema });
  try {
    const r = await retrainPack({
      packId: o.pack,
      store,
      registryDir: path.resolve(o.registry),
      writeTrackedManifest: o.writeTrackedManifest,
      minPerClass: o.minPerClass,
      maxSuspiciousShare: o.maxSuspicious,
      ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
      seed: o.seed,
      outDir: path.resolve(o.out),
      register: o.register,
      threads: o.threads,
      log: ui.log,
      progress: ui.progress,
    });
    const { runId, runDir, pack, parent, registered, version, reasons, counts, gatePhotos, crossRuntime } = r;
    return {
      run: runId,
      runDir,
      pack,
      parent,
      registered,
      version,
      gate: r.gate?.pass ?? false,
      reasons: reasons.length ? reasons : r.gate?.reasons,
      counts,
      gatePhotos,
      species: r.species,
      parentHeldOut: r.parentHeldOut,
      crossRuntime,
    };
  } finally {
    ui.stop();
    await store.close();
  }
}

trainOptions(storeOptions(program.command('retrain').description('retrain the head on accepted corrections + ../shared photos, gate it, register a candidate'))).action(async (o: TrainCli) => {
  if (o.pack) {
    console.log(JSON.stringify(await runPackRetrainFromCli({ ...o, pack: o.pack })));
    return;
  }
  const r = await runRetrainFromCli(o);
  console.log(JSON.stringify(summaryLine(r)));
});

trainOptions(
  storeOptions(
    program
      .command('watch')
      .description('retrain whenever --threshold new accepted corrections arrived since the last run; watches (any number, on any machine) take turns under the retrain-watch job lease, one per tick'),
  ),
)
  .requiredOption('--threshold <n>', 'new accepted corrections that start a retrain', (v) => Number(v))
  .option('--interval <seconds>', 'seconds between checks (the tick length: one watch checks per tick)', (v) => Number(v), 60)
  .option('--lease <seconds>', 'how long a watch that stops renewing keeps the job (default JOB_LEASE_MS, else twice the interval and at least 120)', (v) => Number(v))
  .option('--state <file>', 'keep the count at the last run in this file instead of the database (only right when every watch runs on this machine)')
  .option('--once', 'check once and exit')
  .action(async (o: TrainCli & { threshold: number; interval: number; lease?: number; state?: string; once?: boolean }) => {
    // The watch counts every accepted correction; one pack's are not counted apart yet, so it would retrain the base model.
    if (o.pack) throw new Error('watch --pack is not supported: run `retrain --pack <id>` when the pack has new corrections');
    for (const [flag, v, min] of [
      ['--threshold', o.threshold, 1],
      ['--interval', o.interval, 1],
      ['--lease', o.lease ?? 1, 1],
    ] as const) {
      if (!Number.isFinite(v) || v < min) throw new Error(`${flag} must be a number of at least ${min} (got ${v})`);
    }
    const intervalMs = Math.round(o.interval * 1000);
    const leaseMs = o.lease !== undefined ? Math.round(o.lease * 1000) : (jobLeaseMsFromEnv() ?? Math.max(120_000, 2 * intervalMs));
    const owner = instanceOwner();
    const stateFile = o.state ? path.resolve(o.state) : null;
    const log = (l: string) => console.error(`[watch ${new Date().toISOString()}] ${l}`);
    const open = () => openStore({ dataDir: path.resolve(o.dataDir), databaseUrl: o.databaseUrl, databaseSchema: o.databaseSchema });
    const handOver = async () => {
      const store = await open();
      await releaseWatch(store, owner).finally(() => store.close());
    };
    // Stopped by a signal: hand the job over now instead of after the lease (a retrain under way dies with the process).
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        log(`${signal}: handing the retrain-watch lease over`);
        handOver()
          .catch((err) => log(`could not release the lease (it lapses in ${leaseMs / 1000} s): ${String(err)}`))
          .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
    log(
      `watching ${o.databaseUrl ? 'PostgreSQL' : path.resolve(o.dataDir)} as ${owner}; threshold ${o.threshold}, every ${o.interval} s, lease ${leaseMs / 1000} s, state in ${stateFile ?? 'the database'}`,
    );
    for (;;) {
      const store = await open();
      let outcome;
      try {
        outcome = await tick({
          store,
          owner,
          intervalMs,
          leaseMs,
          state: stateFile ? fileState(stateFile) : databaseState(store),
          threshold: o.threshold,
          log,
          countAccepted: () => countAccepted(store),
          runRetrain: async () => {
            const r = await runRetrainFromCli(o);
            return { runId: r.runId, registered: r.registered };
          },
        });
        if (o.once) await releaseWatch(store, owner);
      } finally {
        await store.close();
      }
      if (o.once) {
        console.log(JSON.stringify(outcome));
        return;
      }
      // Wake just after the next tick boundary, where the next turn is.
      await new Promise((r) => setTimeout(r, intervalMs - (Date.now() % intervalMs) + 50));
    }
  });

program
  .command('scenario')
  .description('end-to-end check through the real server with a temporary data folder and registry copy; prints one JSON line')
  .addArgument(new (await import('commander')).Argument('<name>', 'which scenario').choices(['new-taxa', 'poisoned', 'base-only', 'few-installs', ...PACK_SCENARIOS]))
  .option('--keep', 'keep the temporary folder (prints run_dir)')
  .action(async (name: ScenarioName | PackScenarioName, o: { keep?: boolean }) => {
    const ui = progressBars();
    let out;
    try {
      const common = { keep: o.keep, log: ui.log, retrain: { progress: ui.progress } };
      out = (PACK_SCENARIOS as readonly string[]).includes(name) ? await runPackScenario(name as PackScenarioName, common) : await runScenario(name as ScenarioName, common);
    } finally {
      ui.stop();
    }
    console.log(JSON.stringify(out));
    if (!out.pass) process.exitCode = 1;
  });

program
  .command('curve')
  .description('held-out recall of new taxa by corrections per taxon (each from its own install), repeated over install splits, and the effect on launch taxa; prints a table')
  .option('--sizes <list>', 'corrections per new taxon', (v) => v.split(',').map(Number), CURVE_SIZES)
  .option('--repeats <n>', 'install splits per size (more: tighter ranges, longer run)', (v) => Number(v), 3)
  .option('--pools <list>', 'oxford (12 breeds ImageNet lacks, sizes up to 5) and/or tiny (6 non-launch Tiny-ImageNet classes, up to 20)', (v) => v.split(','), ['oxford', 'tiny'])
  .option('--seed <n>', 'random seed', (v) => Number(v), 1)
  .option('--registry <dir>', 'model registry (default WILDSIGHT_REGISTRY, else models/registry)', REGISTRY_DIR)
  .option('--out <file>', 'the rows as JSON (retrain draws them in its report)', CURVE_FILE)
  .action(async (o: { sizes: number[]; repeats: number; pools: Array<'oxford' | 'tiny'>; seed: number; registry: string; out: string }) => {
    const ui = progressBars();
    const t0 = performance.now();
    let rows;
    try {
      rows = await runCurve({ registryDir: path.resolve(o.registry), sizes: o.sizes, repeats: o.repeats, pools: o.pools, seed: o.seed, log: ui.log, progress: ui.progress });
    } finally {
      ui.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    writeFileSync(path.resolve(o.out), JSON.stringify({ createdAt: new Date().toISOString(), seconds, repeats: o.repeats, seed: o.seed, rows }, null, 2) + '\n');
    console.log(curveMarkdown(rows));
    console.error(`${seconds.toFixed(0)} s; rows in ${path.resolve(o.out)}`);
  });

await program.parseAsync();
