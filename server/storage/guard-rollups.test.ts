/**
 * The rollout guard's arms from the tally (rollup_guard, guard-rollups.ts)
 * equal the full raw read armInstalls made before it (rawArmInstalls below,
 * kept as the reference), on SQLite and PostgreSQL: seeded random
 * identifications (some carrying a species pack), model_status reports and
 * corrections (some before their identification, some twice, some past the
 * daily cap, some citing nothing or another install's identification), sent
 * in batches arriving at millisecond times over 30 hours, some exactly on an
 * hour; credentials old, fresh, revoked and sharing a network; two installs
 * delete their data half way. Many random windows with millisecond edges,
 * for base and pack arms, then again after retention deletes old raw events
 * and after migration 0011 refills the tally from the stored events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { correction, embedding, identification, TAXON_IDS } from '../testing/fixtures.ts';
import { seededRandom } from '../../core/random.ts';
import { FAILING_MODEL_OUTCOMES, MODEL_OUTCOMES, truncateToHour, type ModelOutcome, type ModelStatusEvent, type TelemetryEvent } from '../../core/telemetry.ts';
import type { InstallCounts } from '../../core/install-aggregate.ts';
import { armInstalls, keepSources, rolloutDb, storeFlavor, type ArmWindow } from './rollout-store.ts';
import { payloadField, type GuardArm, type SqlFlavor } from './guard-rollups.ts';
import { guardRollup } from './migrations/0011_guard_rollup.ts';
import { applyRetention } from '../jobs/retention.ts';
import type { Database } from './rows.ts';
import type { FeedbackStore } from './types.ts';

const HOUR = 3_600_000;
const DAY0 = Date.parse('2026-10-01T00:00:00.000Z');
/** First arrival: not on an hour. */
const T0 = DAY0 + 0.37 * HOUR;
const SPAN = 30 * HOUR;
const ARMS: GuardArm[] = [{ version: '0.9.0' }, { version: '1.0.0' }, { pack: 'inat-birds', version: '1.0.0' }, { pack: 'inat-birds', version: '1.1.0' }, { pack: 'inat-insects', version: '1.0.0' }];

function uuid(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The reference: armInstalls as it was, every raw event of the window grouped
 * per install (for a pack arm: the identifications that carried that pack;
 * model_status reports name no pack), then the same source rule.
 */
async function rawArmInstalls(db: Kysely<Database>, flavor: SqlFlavor, arm: GuardArm, w: ArmWindow): Promise<Map<string, InstallCounts>> {
  const inArm = arm.pack
    ? sql<boolean>`${payloadField(flavor, ['pack', 'id'], 'text')} = ${arm.pack} and ${payloadField(flavor, ['pack', 'version'], 'text')} = ${arm.version}`
    : sql<boolean>`e.model_version = ${arm.version}`;
  const out = new Map<string, InstallCounts>();
  const get = (id: string) => {
    let c = out.get(id);
    if (!c) out.set(id, (c = { identifications: 0, corrections: 0, abstains: 0, errors: 0, failures: 0, statusReports: 0, meanLatencyMs: null }));
    return c;
  };
  const ids = await db
    .selectFrom('events as e')
    .select((eb) => [
      'e.install_id',
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>(payloadField(flavor, ['abstain'], 'bool')).as('abstains'),
      eb.fn.sum<number>(sql`coalesce(${payloadField(flavor, ['errors'], 'real')}, 0)`).as('errors'),
      eb.fn.avg<number>(payloadField(flavor, ['timings', 'totalMs'], 'real')).as('mean_ms'),
    ])
    .where('e.type', '=', 'identification')
    .where(inArm)
    .where('e.received_at', '>=', w.since)
    .where('e.received_at', '<=', w.until)
    .groupBy('e.install_id')
    .execute();
  for (const r of ids) {
    const c = get(r.install_id);
    c.identifications = Number(r.n);
    c.abstains = Number(r.abstains ?? 0);
    c.errors = Number(r.errors ?? 0);
    c.meanLatencyMs = r.mean_ms === null || r.mean_ms === undefined ? null : Number(r.mean_ms);
  }
  const corrected = await db
    .selectFrom('corrections as c')
    .innerJoin('events as e', 'e.event_id', 'c.corrects_event_id')
    .select((eb) => ['e.install_id', eb.fn.count<number>('c.corrects_event_id').distinct().as('n')])
    .where('c.verdict', '=', 'corrected')
    .where('c.grounding', '=', 'grounded')
    .where('c.counted', '=', 1)
    .where('e.type', '=', 'identification')
    .where(inArm)
    .where('e.received_at', '>=', w.since)
    .where('e.received_at', '<=', w.until)
    .where('c.received_at', '<=', w.until)
    .groupBy('e.install_id')
    .execute();
  for (const r of corrected) get(r.install_id).corrections = Number(r.n);
  if (!arm.pack) {
    const statuses = await db
      .selectFrom('events')
      .select(['install_id', 'payload'])
      .where('type', '=', 'model_status')
      .where('model_version', '=', arm.version)
      .where('received_at', '>=', w.since)
      .where('received_at', '<=', w.until)
      .execute();
    for (const r of statuses) {
      const c = get(r.install_id);
      c.statusReports = (c.statusReports ?? 0) + 1;
      const outcome = (JSON.parse(r.payload) as { outcome?: string }).outcome;
      if (outcome && FAILING_MODEL_OUTCOMES.has(outcome as ModelOutcome)) c.failures++;
    }
  }
  return keepSources(db, out, w.since);
}

/** Seeded installs, credentials and batches (each with its arrival time). */
function randomData(seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const installs = Array.from({ length: 30 }, () => uuid(random));
  const events: TelemetryEvent[] = [];
  const hourOf = () => truncateToHour(T0 + random() * SPAN - random() * 3 * HOUR);
  const packs = [
    { id: 'inat-birds', version: '1.0.0' },
    { id: 'inat-birds', version: '1.1.0' },
    { id: 'inat-insects', version: '1.0.0' },
  ];
  for (let i = 0; i < 1400; i++) {
    const installId = pick(installs);
    const p = random();
    const pack = p < 0.45 ? { pack: { ...pick(packs), routedBy: 'rollup' as const, top5: [{ taxonId: pick(TAXON_IDS.slice(0, 6)), p: random() }] } } : {};
    const e = identification({
      eventId: uuid(random),
      // Some ids in capitals: the store keeps them lower-case, and so must the tally.
      installId: random() < 0.1 ? installId.toUpperCase() : installId,
      modelVersion: pick(['0.9.0', '1.0.0']),
      timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: Math.exp(2 + random() * 5) },
      top5: [{ taxonId: pick(TAXON_IDS.slice(0, 6)), p: random() }],
      abstain: random() < 0.15,
      hour: hourOf(),
      ...(random() < 0.1 ? { errors: 1 + Math.floor(random() * 3) } : {}),
      ...pack,
    });
    events.push(e);
    if (random() < 0.3) {
      const cite = random() < 0.1 ? uuid(random) : e.eventId;
      const by = random() < 0.05 ? pick(installs) : e.installId;
      const c = () =>
        correction({
          eventId: uuid(random),
          installId: by,
          correctsEventId: cite,
          modelVersion: e.modelVersion,
          verdict: random() < 0.75 ? 'corrected' : 'confirmed',
          hour: e.hour,
          embedding: embedding(8, 1),
        });
      events.push(c());
      // Corrected twice: the identification still counts once.
      if (random() < 0.15) events.push(c());
    }
  }
  for (let i = 0; i < 250; i++) {
    const outcome = pick(MODEL_OUTCOMES);
    const s: ModelStatusEvent = {
      type: 'model_status',
      eventId: uuid(random),
      installId: pick(installs),
      modelVersion: pick(['0.9.0', '1.0.0']),
      outcome,
      ...(outcome === 'run-failures' ? { count: 2 } : {}),
      appVersion: 't',
      hour: hourOf(),
    };
    events.push(s);
  }
  // Random order: a correction may arrive before the identification it cites.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  const batches: Array<{ at: number; events: TelemetryEvent[] }> = [];
  for (let i = 0; i < events.length;) {
    const n = 1 + Math.floor(random() * 40);
    batches.push({ at: 0, events: events.slice(i, i + n) });
    i += n;
  }
  const times = batches.map(() => T0 + Math.floor(random() * SPAN)).sort((a, b) => a - b);
  // Some arrive exactly on an hour, the edge a window may start or end on.
  batches.forEach((b, i) => (b.at = random() < 0.1 ? Math.floor(times[i] / HOUR) * HOUR : times[i]));
  batches.sort((a, b) => a.at - b.at);
  return { installs, batches, random };
}

/** Equal as the guard reads them: every count exactly, the mean latency up to float summation order. */
function expectSame(got: Map<string, InstallCounts>, want: Map<string, InstallCounts>, at: string) {
  expect([...got.keys()].sort(), at).toEqual([...want.keys()].sort());
  for (const [id, w] of want) {
    const g = got.get(id)!;
    expect({ ...g, meanLatencyMs: 0 }, `${at} ${id}`).toEqual({ ...w, meanLatencyMs: 0 });
    if (w.meanLatencyMs === null || w.meanLatencyMs === undefined) expect(g.meanLatencyMs, `${at} ${id}`).toBeNull();
    else expect(Math.abs(g.meanLatencyMs! - w.meanLatencyMs) / w.meanLatencyMs, `${at} ${id}`).toBeLessThan(1e-12);
  }
}

describe.each(BACKENDS)("the guard's tally against the raw read on $name", (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    let data: ReturnType<typeof randomData>;
    const deleted = new Set<string>();
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
      data = randomData(backend.name === 'sqlite' ? 21 : 22);
      const old = new Date(DAY0 - 2 * 86_400_000);
      // Six on one network (the cap keeps three), one fresh part way through, one revoked, the rest without a credential row.
      for (const [i, id] of data.installs.slice(0, 20).entries()) await store.installs.issue({ installId: id, issuedAt: old, networkHash: i < 6 ? 'farm' : `n${i}` });
      await store.installs.issue({ installId: data.installs[20], issuedAt: new Date(T0 + 10 * HOUR), networkHash: 'fresh' });
      await store.installs.revoke(data.installs[7], 'test');
      for (const [i, b] of data.batches.entries()) {
        if (i === Math.floor(data.batches.length * 0.6)) {
          for (const id of [data.installs[4], data.installs[25]]) {
            await store.installs.deleteData(id);
            deleted.add(id);
          }
        }
        const events = b.events.filter((e) => !deleted.has(e.installId.toLowerCase()));
        // A low daily cap, so some corrections are stored but do not count.
        if (events.length) await store.insertBatch(events, new Date(b.at), { dailyCorrectionCap: 6 });
      }
    }, 300_000);
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    /** Random windows with millisecond edges, some on whole hours, some inside one hour, for every arm. */
    async function compareWindows(n: number) {
      const random = data.random;
      const windows: ArmWindow[] = [];
      for (let i = 0; i < n; i++) {
        const since = T0 - HOUR + Math.floor(random() * (SPAN + HOUR));
        const length = random() < 0.2 ? Math.floor(random() * HOUR) : Math.floor(random() * 20 * HOUR);
        windows.push({ since: new Date(since).toISOString(), until: new Date(since + length).toISOString() });
      }
      const h = (k: number) => Math.floor(T0 / HOUR) * HOUR + k * HOUR;
      windows.push(
        { since: new Date(h(2)).toISOString(), until: new Date(h(9) - 1).toISOString() },
        { since: new Date(h(2)).toISOString(), until: new Date(h(9)).toISOString() },
        { since: new Date(h(3) + 1).toISOString(), until: new Date(h(3) + 2).toISOString() },
        { since: new Date(h(0)).toISOString(), until: new Date(h(40)).toISOString() },
      );
      const d = rolloutDb(store);
      const flavor = storeFlavor(store);
      const seen = { identifications: 0, corrections: 0, failures: 0, packIdentifications: 0, lateCorrections: 0 };
      for (const w of windows) {
        for (const arm of ARMS) {
          const want = await rawArmInstalls(d, flavor, arm, w);
          expectSame(await armInstalls(d, flavor, arm, w), want, `${arm.pack ?? ''}@${arm.version} ${w.since}..${w.until}`);
          for (const c of want.values()) {
            seen.identifications += c.identifications;
            seen.corrections += c.corrections;
            seen.failures += c.failures;
            if (arm.pack) seen.packIdentifications += c.identifications;
          }
        }
        // Evidence corrections of the window's identifications that arrived after it: the tally holds them, the window must not count them.
        const late = await d
          .selectFrom('corrections as c')
          .innerJoin('events as e', 'e.event_id', 'c.corrects_event_id')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('c.verdict', '=', 'corrected')
          .where('c.grounding', '=', 'grounded')
          .where('c.counted', '=', 1)
          .where('c.received_at', '>', w.until)
          .where('e.received_at', '>=', w.since)
          .where('e.received_at', '<=', w.until)
          .executeTakeFirstOrThrow();
        seen.lateCorrections += Number(late.n);
      }
      return seen;
    }

    it('answers every window as the raw events do, for base and pack arms', async () => {
      const seen = await compareWindows(40);
      // The data exercises every count, pack arms included.
      expect(seen.identifications).toBeGreaterThan(2000);
      expect(seen.packIdentifications).toBeGreaterThan(500);
      expect(seen.corrections).toBeGreaterThan(50);
      expect(seen.failures).toBeGreaterThan(5);
      expect(seen.lateCorrections).toBeGreaterThan(10);
      const d = rolloutDb(store);
      expect(
        await d
          .selectFrom('rollup_guard')
          .select('install_id')
          .where('install_id', 'in', [...deleted])
          .execute(),
      ).toEqual([]);
      const kinds = await d.selectFrom('corrections').select(['grounding', 'counted']).distinct().execute();
      expect(kinds.length).toBeGreaterThanOrEqual(3);
    }, 300_000);

    it('still does after retention deletes old raw events', async () => {
      const res = await applyRetention(rolloutDb(store), { retentionDays: 8, photoRetentionDays: null }, new Date(DAY0 + 8 * 86_400_000 + 12 * HOUR));
      expect(res.events).toBeGreaterThan(100);
      await compareWindows(15);
    }, 300_000);

    it('is refilled from the stored events by migration 0011 as ingest left it', async () => {
      const d = rolloutDb(store);
      const rows = () => d.selectFrom('rollup_guard').selectAll().orderBy('arm').orderBy('hour').orderBy('install_id').execute();
      const before = await rows();
      const migration = guardRollup(storeFlavor(store))['0011_guard_rollup'];
      await migration.down!(d);
      await migration.up(d);
      const after = await rows();
      expect(after.length).toBe(before.length);
      after.forEach((r, i) => {
        const b = before[i];
        expect({ ...r, latency_sum: 0 }).toEqual({ ...b, latency_sum: 0 });
        expect(Math.abs(Number(r.latency_sum) - Number(b.latency_sum))).toBeLessThan(1e-9 * Math.max(1, Math.abs(Number(b.latency_sum))));
      });
      await compareWindows(5);
    }, 300_000);
  });
});
