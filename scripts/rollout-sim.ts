/**
 * npm run simulate -- rollout [--runs 200] [--seed 1]
 *
 * Many simulated rollouts per scenario (equal canary, 3 points worse,
 * broken on load, flooded by one install) through the rollout guard's real
 * decision code (core/rollout-sim.ts); prints ONE JSON line on stdout and a
 * progress bar on stderr. Seeded: the same options print the same line.
 */
import cliProgress from 'cli-progress';
import { simulateRollouts } from '../core/rollout-sim.ts';

export interface RolloutSimCliOptions {
  runs: string;
  seed: string;
}

export function runRolloutSim(opts: RolloutSimCliOptions): void {
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got "${v}"`);
    return n;
  };
  const runs = int('--runs', opts.runs);
  const seed = int('--seed', opts.seed);
  const bar = new cliProgress.SingleBar({ format: 'rollouts [{bar}] {value}/{total} {duration}s', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  const started = Date.now();
  bar.start(runs * 4, 0);
  const result = simulateRollouts({ seed, runs, onRun: (done) => bar.update(done) });
  bar.stop();
  process.stdout.write(`${JSON.stringify({ ...result, seconds: Math.round((Date.now() - started) / 100) / 10 })}\n`);
}
