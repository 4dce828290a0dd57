/**
 * Test helper for pipeline/watch.test.ts: a retrain watch in a process of its
 * own that takes its turn and then "retrains" for ever, so the test can
 * SIGKILL the lease holder in the middle of a retrain and see another watch
 * take over. Store from DATA_DIR or DATABASE_URL (+ DATABASE_SCHEMA); tick
 * and lease from WATCH_INTERVAL_MS and WATCH_LEASE_MS. Prints one JSON line,
 * `{ tick, owner }`, when its retrain starts.
 */
import { openStore } from '../server/storage/open.ts';
import { instanceOwner } from '../server/jobs/lease.ts';
import { databaseState, tick } from './watch.ts';

const store = await openStore({ dataDir: process.env.DATA_DIR ?? '', databaseUrl: process.env.DATABASE_URL, databaseSchema: process.env.DATABASE_SCHEMA });
const owner = instanceOwner();
const outcome = await tick({
  store,
  owner,
  intervalMs: Number(process.env.WATCH_INTERVAL_MS),
  leaseMs: Number(process.env.WATCH_LEASE_MS),
  state: databaseState(store),
  threshold: 1,
  countAccepted: async () => 1,
  runRetrain: (): Promise<never> =>
    new Promise(() => {
      console.log(JSON.stringify({ owner, startedAt: Date.now() }));
      setInterval(() => {}, 60_000); // stays alive (and renewing its lease) until killed
    }),
});
console.log(JSON.stringify({ owner, outcome }));
await store.close();
