/**
 * npm run simulate -- abuse [--seed N]
 *
 * Tries, as an outsider would, to make anonymous input change what other
 * users see (GET /v1/taxa), what the model learns (the training export) or
 * how a rollout goes (the rollout guard), against the real server: the app
 * built by buildApp, listening on loopback, on a temporary SQLite store and
 * a temporary copy of the registry. Prints ONE JSON line with each attack
 * and its outcome, and exits 1 when any attack succeeds or anything that
 * must not change did.
 *
 * Two worlds are built from the same seed: both hold the same legitimate
 * fleet (400 installs with day-old credentials, nearly all on networks of
 * their own, a running
 * canary of the second model version with both arms reporting, and one
 * confusion that three independent installs agree on, which must still be
 * accepted: the defences may not block real users). One of them is then
 * attacked. The guard's decision in the attacked world must equal the one
 * in the quiet world, and the published taxa and the training export must
 * be what they were before the attacks.
 *
 * The attacker's requests leave from loopback addresses of its own
 * (127.0.N.x: one /24 "network" per attack, several addresses where an
 * attack spreads over them), so per-address limits and network hashes act
 * as they would on the internet.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildApp } from '../server/app.ts';
import { installToken } from '../server/plugins/app/install-credentials.ts';
import { acceptedCorrections } from '../pipeline/feedback-input.ts';
import { readManifest, loadTaxonomy } from '../node/registry.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { rng } from '../core/drift-series.ts';
import { seededUuid } from '../core/random.ts';
import { truncateToHour, type CorrectionEvent, type IdentificationEvent, type TelemetryEvent } from '../core/telemetry.ts';
import type { InstallCredential } from '../core/api/installs.ts';

const ADMIN_TOKEN = `abuse-sim-${randomUUID()}`;
/** Counts rows of every install at once (see InstallRepository.counts). */
const ANY_INSTALL = '*';
const HOAX = 'Definitely Not A Hoax Bird';
const DAY_MS = 86_400_000;

interface Reply {
  status: number;
  body: any;
}

/** One HTTP request from a chosen local address (a loopback alias), so the server sees that client address. */
function send(url: string, o: { method?: string; body?: unknown; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const req = http.request(
      url,
      {
        method: o.method ?? 'GET',
        localAddress: o.from ?? '127.0.0.1',
        headers: { ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

interface World {
  app: Awaited<ReturnType<typeof buildApp>>;
  url: string;
  admin(pathname: string, body?: unknown): Promise<Reply>;
  close(): Promise<void>;
}

async function startWorld(): Promise<World> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'wildsight-abuse-'));
  const registryDir = path.join(tmp, 'registry');
  cpSync(REGISTRY_DIR, registryDir, { recursive: true });
  // The guard is run on demand, at once (no minimum time per step: the worlds are minutes old).
  const app = await buildApp({ dataDir: path.join(tmp, 'data'), registryDir, adminToken: ADMIN_TOKEN, logger: false, rolloutGuard: { intervalMs: 0, config: { minStepS: 0 } } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    app,
    url,
    admin: (pathname, body) => send(`${url}${pathname}`, { method: body === undefined ? 'GET' : 'POST', body, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    close: async () => {
      await app.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

const manifest = readManifest(REGISTRY_DIR);
if (!manifest) throw new Error(`no model registry at ${REGISTRY_DIR}; run npm run models:build`);
const ACTIVE = manifest.versions.find((v) => v.version === manifest.active)!;
const CANARY = manifest.versions.find((v) => v.version !== manifest.active);
if (!CANARY) throw new Error('the abuse simulation needs a second model version in the registry for its canary');
const TAXA = loadTaxonomy().taxa.map((t) => t.id);
const embeddingSize = (version: string) => manifest.versions.find((v) => v.version === version)!.outputs.embeddingSize;

function events(random: () => number) {
  const uuid = () => seededUuid(random);
  const hour = truncateToHour(Date.now());
  const identification = (installId: string, version: string, o: Partial<IdentificationEvent> = {}): IdentificationEvent => {
    const top = TAXA[Math.floor(random() * 20)];
    const p = 0.5 + random() * 0.45;
    return {
      type: 'identification',
      eventId: uuid(),
      installId,
      modelVersion: version,
      backend: 'wasm',
      timings: { decodeMs: 5, preprocessMs: 8, inferenceMs: 40, totalMs: 60 + Math.round(random() * 40) },
      top5: [
        { taxonId: top, p },
        { taxonId: top === TAXA[50] ? TAXA[51] : TAXA[50], p: (1 - p) / 3 },
      ],
      otherProbability: (1 - p) / 3,
      abstain: random() < 0.1,
      appVersion: 'abuse-sim',
      hour,
      ...o,
    };
  };
  const correction = (of: IdentificationEvent, o: Partial<CorrectionEvent> = {}): CorrectionEvent => ({
    type: 'correction',
    eventId: uuid(),
    installId: of.installId,
    correctsEventId: of.eventId,
    verdict: 'corrected',
    taxonId: TAXA[60],
    modelVersion: of.modelVersion,
    embedding: Array.from({ length: embeddingSize(of.modelVersion) }, (_, i) => Math.sin(i + random())),
    appVersion: 'abuse-sim',
    hour,
    ...o,
  });
  return { uuid, identification, correction };
}

/**
 * The honest fleet, the same in both worlds: 300 installs on the active
 * version and 100 on the canary, 3 photos each and about 8% corrected, all
 * with credentials issued three days ago, on 360 networks; and one
 * confusion (top-1 TAXA[0] corrected to TAXA[70]) from three installs on
 * three networks, which the independent-installs rule must accept.
 */
async function seedFleet(world: World, seed: number) {
  const random = rng(seed);
  const make = events(random);
  const issuedAt = new Date(Date.now() - 3 * DAY_MS);
  const canary = await world.admin(`/v1/admin/models/${CANARY!.version}/canary`, { percent: 5, reason: 'abuse simulation: a canary for attackers to push on' });
  if (canary.status !== 200) throw new Error(`starting the canary answered ${canary.status}: ${JSON.stringify(canary.body)}`);
  const batch: TelemetryEvent[] = [];
  const consensus: string[] = [];
  for (let i = 0; i < 400; i++) {
    const installId = make.uuid();
    // Most honest installs sit on networks of their own; every tenth shares one with the install before it.
    const network = i % 10 === 9 ? i - 1 : i;
    await installToken(world.app, installId, { issuedAt, address: `10.${Math.floor(network / 250)}.${network % 250}.${1 + (i % 200)}` });
    const version = i < 300 ? ACTIVE.version : CANARY!.version;
    for (let k = 0; k < 3; k++) {
      const id = make.identification(installId, version);
      batch.push(id);
      if (random() < 0.08) batch.push(make.correction(id));
    }
    if (i < 3) {
      const seen = make.identification(installId, ACTIVE.version, { top5: [{ taxonId: TAXA[0], p: 0.7 }], otherProbability: 0.1, abstain: false });
      const fix = make.correction(seen, { taxonId: TAXA[70] });
      batch.push(seen, fix);
      consensus.push(fix.eventId);
    }
  }
  for (let i = 0; i < batch.length; i += 500) await world.app.store.insertBatch(batch.slice(i, i + 500));
  await world.admin('/v1/admin/review/auto-accept', {});
  return { consensus };
}

async function snapshot(world: World) {
  const taxa = (await send(`${world.url}/v1/taxa`)).body.taxa.map((t: { id: string }) => t.id).sort() as string[];
  const exported: string[] = [];
  for await (const c of acceptedCorrections(world.app.store)) exported.push(c.eventId);
  return { taxa, trainingExport: exported.sort() };
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

interface Attack {
  name: string;
  tried: string;
  succeeded: boolean;
  details: Record<string, unknown>;
}

const started = Date.now();
/** Progress on stderr (stdout is the one JSON line). */
const progress = (what: string) => process.stderr.write(`abuse: ${((Date.now() - started) / 1000).toFixed(1)} s  ${what}\n`);

async function attack(world: World, seed: number): Promise<Attack[]> {
  const random = rng(seed + 1000);
  const make = events(random);
  const out: Attack[] = [];
  const stored = async () => (await world.app.store.installs.counts(ANY_INSTALL)).events;
  const post = (evs: unknown[], auth: string | undefined, from: string) =>
    send(`${world.url}/v1/events`, { method: 'POST', body: { events: evs }, headers: auth ? { authorization: auth } : {}, from });
  const getInstall = async (from: string): Promise<InstallCredential | null> => {
    const r = await send(`${world.url}/v1/installs`, { method: 'POST', from });
    return r.status === 201 ? r.body : null;
  };
  const auth = (c: InstallCredential) => `Install ${c.token}`;

  // 1. No token at all.
  progress('attack 1 of 11');
  {
    const before = await stored();
    const r = await post([make.identification(make.uuid(), ACTIVE.version)], undefined, '127.0.1.1');
    const after = await stored();
    out.push({ name: 'no-token', tried: 'POST /v1/events without Authorization', succeeded: r.status !== 401 || after !== before, details: { status: r.status, stored: after - before } });
  }

  // 2. Forged tokens: a made-up install with a made-up signature, keys an attacker might guess, a real token's signature on another id.
  progress('attack 2 of 11');
  {
    const before = await stored();
    const real = (await getInstall('127.0.2.1'))!;
    const victim = make.uuid();
    const sec = Math.floor(Date.now() / 1000);
    const sig = real.token.split('.')[3];
    const { createHmac } = await import('node:crypto');
    const guessed = ['', 'secret', 'wildsight', 'changeme'].map((k) => `v1.${victim}.${sec}.${createHmac('sha256', k).update(`v1|${victim}|${sec}`).digest('base64url')}`);
    const tokens = [`v1.${victim}.${sec}.${'A'.repeat(43)}`, `v1.${victim}.${sec}.${sig}`, ...guessed, `v2.${real.token.slice(3)}`, 'null', `${real.token}x`];
    const statuses = [];
    for (const t of tokens) statuses.push((await post([make.identification(victim, ACTIVE.version)], `Install ${t}`, '127.0.2.1')).status);
    const after = await stored();
    out.push({
      name: 'forged-token',
      tried: `${tokens.length} forged tokens`,
      succeeded: statuses.some((s) => s !== 401) || after !== before,
      details: { statuses: [...new Set(statuses)], stored: after - before },
    });
  }

  // 3. 100 made-up install ids from one address: credentials are rationed, and events cannot name an id their token was not issued to.
  progress('attack 3 of 11');
  {
    let issued = 0;
    let first: InstallCredential | null = null;
    for (let i = 0; i < 100; i++) {
      const c = await getInstall('127.0.3.1');
      if (c) {
        issued++;
        first ??= c;
      }
    }
    const before = await stored();
    const madeUp = Array.from({ length: 100 }, () => make.identification(make.uuid(), CANARY!.version));
    const r = await post(madeUp, auth(first!), '127.0.3.1');
    const after = await stored();
    const mismatched = (r.body.rejected ?? []).filter((x: { reason: string }) => x.reason === 'install-mismatch').length;
    out.push({
      name: 'made-up-installs',
      tried: '100 credentials from one address, then 100 events under 100 made-up install ids',
      succeeded: issued > 20 || after !== before,
      details: { credentialsIssued: issued, eventsStored: after - before, refusedAsMismatch: mismatched },
    });
  }

  // 4. A proposed name (and a known-taxon confusion) pushed by 50 installs from one network (three addresses in one /24, to get past the per-address limit).
  progress('attack 4 of 11');
  {
    const installs: InstallCredential[] = [];
    for (const from of ['127.0.4.1', '127.0.4.2', '127.0.4.3']) {
      for (let i = 0; i < 20 && installs.length < 50; i++) {
        const c = await getInstall(from);
        if (c) installs.push(c);
      }
    }
    const pushed: string[] = [];
    for (const [i, c] of installs.entries()) {
      const history = Array.from({ length: 3 }, () => make.identification(c.installId, ACTIVE.version));
      const seen = make.identification(c.installId, ACTIVE.version, { top5: [{ taxonId: TAXA[0], p: 0.7 }], otherProbability: 0.1, abstain: false });
      const name = make.correction(seen, { taxonId: undefined, proposedName: HOAX });
      const seen2 = make.identification(c.installId, ACTIVE.version, { top5: [{ taxonId: TAXA[0], p: 0.7 }], otherProbability: 0.1, abstain: false });
      const confusion = make.correction(seen2, { taxonId: TAXA[90] });
      await post([...history, seen, name, seen2, confusion], auth(c), `127.0.4.${1 + Math.floor(i / 20)}`);
      pushed.push(name.eventId, confusion.eventId);
    }
    await world.admin('/v1/admin/review/auto-accept', {});
    const accepted = (await world.app.store.listCorrections({ status: 'accepted', limit: 100_000 })).items.filter((c) => pushed.includes(c.eventId)).length;
    const taxa = (await send(`${world.url}/v1/taxa`)).body.taxa as Array<{ commonName: string }>;
    out.push({
      name: 'proposed-name-one-network',
      tried: `"${HOAX}" and a made-up confusion from ${installs.length} installs on one network`,
      succeeded: accepted > 0 || taxa.some((t) => t.commonName === HOAX),
      details: { installs: installs.length, accepted, published: taxa.some((t) => t.commonName === HOAX) },
    });
  }

  // 5. 10,000 corrections from one install, each grounded on an identification of its own.
  progress('attack 5 of 11');
  {
    const c = (await getInstall('127.0.5.1'))!;
    let sent = 0;
    for (let b = 0; b < 100; b++) {
      const evs: TelemetryEvent[] = [];
      for (let k = 0; k < 100; k++) {
        const seen = make.identification(c.installId, ACTIVE.version, { top5: [{ taxonId: TAXA[0], p: 0.7 }], otherProbability: 0.1, abstain: false });
        evs.push(seen, make.correction(seen, { taxonId: TAXA[91] }));
      }
      const r = await post(evs, auth(c), '127.0.5.1');
      if (r.status === 200) sent += 100;
    }
    await world.admin('/v1/admin/review/auto-accept', {});
    const mine = (await world.app.store.listCorrections({ limit: 1_000_000 })).items.filter((x) => x.installId === c.installId);
    const counted = mine.filter((x) => x.counted).length;
    const accepted = mine.filter((x) => x.status === 'accepted').length;
    out.push({
      name: 'correction-flood',
      tried: '10,000 grounded corrections from one install in one day',
      succeeded: counted > 50 || accepted > 0,
      details: { sent, stored: mine.length, counted, accepted },
    });
  }

  // 6. Corrections citing identifications that do not exist, or that belong to another install.
  progress('attack 6 of 11');
  {
    const c = (await getInstall('127.0.6.1'))!;
    const someoneElses = (await world.app.store.listEvents({ type: 'identification', limit: 20 })).items.filter((e) => e.installId !== c.installId);
    const base = make.identification(c.installId, ACTIVE.version);
    const evs: TelemetryEvent[] = [
      ...Array.from({ length: 20 }, () => make.correction({ ...base, eventId: make.uuid() }, { taxonId: TAXA[92] })),
      ...someoneElses.map((e) => make.correction({ ...base, eventId: e.eventId, modelVersion: e.modelVersion }, { taxonId: TAXA[92] })),
    ];
    await post(evs, auth(c), '127.0.6.1');
    await world.admin('/v1/admin/review/auto-accept', {});
    const mine = (await world.app.store.listCorrections({ limit: 1_000_000 })).items.filter((x) => x.installId === c.installId);
    out.push({
      name: 'ungrounded-corrections',
      tried: `${evs.length} corrections citing identifications that do not exist or are another install's`,
      succeeded: mine.some((x) => x.grounding === 'grounded' || x.status === 'accepted'),
      details: { stored: mine.length, grounded: mine.filter((x) => x.grounding === 'grounded').length },
    });
  }

  // 7. A flood of fake identifications for the canary: 20 fresh installs from one network send 500 each, all abstaining and slow.
  progress('attack 7 of 11');
  {
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      const c = await getInstall('127.0.7.1');
      if (!c) break;
      for (let b = 0; b < 2; b++) {
        const evs = Array.from({ length: 250 }, () =>
          make.identification(c.installId, CANARY!.version, { abstain: true, timings: { decodeMs: 5, preprocessMs: 5, inferenceMs: 500, totalMs: 9000 }, errors: 50 }),
        );
        if ((await post(evs, auth(c), '127.0.7.1')).status === 200) sent += evs.length;
      }
    }
    // The outcome is judged against the quiet world's guard (below).
    out.push({ name: 'canary-flood', tried: 'fake, failing identifications of the canary from 20 fresh installs on one network', succeeded: false, details: { sent } });
  }

  // 8. A revoked install keeps sending.
  progress('attack 8 of 11');
  {
    const c = (await getInstall('127.0.8.1'))!;
    const ok = await post([make.identification(c.installId, ACTIVE.version)], auth(c), '127.0.8.1');
    const revoke = await world.admin(`/v1/admin/installs/${c.installId}/revoke`, { reason: 'abuse simulation' });
    const before = await stored();
    const r = await post([make.identification(c.installId, ACTIVE.version)], auth(c), '127.0.8.1');
    const after = await stored();
    out.push({
      name: 'revoked-install',
      tried: 'events after an admin revoked the install',
      succeeded: ok.status !== 200 || revoke.status !== 200 || r.status !== 401 || after !== before,
      details: { before: ok.status, after: r.status, stored: after - before },
    });
  }

  // 9-11: credentials collected days ahead (so older than the step and than a day), all on one network.
  // POST /v1/installs cannot backdate them, so they are issued in the store as they would have been then.
  const aheadOfTime = async (n: number, network: number) => {
    const issuedAt = new Date(Date.now() - 3 * DAY_MS);
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const installId = make.uuid();
        return { installId, token: await installToken(world.app, installId, { issuedAt, address: `127.0.${network}.${1 + i}` }), issuedAt: issuedAt.toISOString() };
      }),
    );
  };
  {
    progress('attack 9 of 11');
    const farm = await aheadOfTime(30, 9);
    for (const c of farm) {
      const status = {
        type: 'model_status',
        eventId: make.uuid(),
        installId: c.installId,
        modelVersion: CANARY!.version,
        outcome: 'failed-to-start',
        reason: 'other',
        appVersion: 'abuse-sim',
        hour: truncateToHour(Date.now()),
      };
      await post([make.identification(c.installId, CANARY!.version), status], auth(c), `127.0.9.${1 + (farm.indexOf(c) % 250)}`);
    }
    out.push({
      name: 'failure-reports-one-network',
      tried: '30 credentials collected days ahead on one network report that the canary fails to start',
      succeeded: false,
      details: { installs: farm.length },
    });
  }
  {
    progress('attack 10 of 11');
    const farm = await aheadOfTime(30, 10);
    for (const c of farm) {
      const evs = Array.from({ length: 20 }, () => make.identification(c.installId, CANARY!.version, { abstain: true }));
      await post(evs, auth(c), `127.0.10.${1 + (farm.indexOf(c) % 250)}`);
    }
    out.push({
      name: 'abstain-farm-one-network',
      tried: '30 credentials collected days ahead on one network, every canary answer "not one of our species"',
      succeeded: false,
      details: { installs: farm.length },
    });
  }
  {
    progress('attack 11 of 11');
    const farm = await aheadOfTime(50, 11);
    const pushed: string[] = [];
    for (const c of farm) {
      const history = Array.from({ length: 3 }, () => make.identification(c.installId, ACTIVE.version));
      const seen = make.identification(c.installId, ACTIVE.version, { top5: [{ taxonId: TAXA[0], p: 0.7 }], otherProbability: 0.1, abstain: false });
      const confusion = make.correction(seen, { taxonId: TAXA[93] });
      await post([...history, seen, confusion], auth(c), `127.0.11.${1 + (farm.indexOf(c) % 250)}`);
      pushed.push(confusion.eventId);
    }
    await world.admin('/v1/admin/review/auto-accept', {});
    const accepted = (await world.app.store.listCorrections({ status: 'accepted', limit: 100_000 })).items.filter((c) => pushed.includes(c.eventId)).length;
    out.push({
      name: 'aged-installs-one-network',
      tried: 'a made-up confusion from 50 day-old installs with histories, all on one network',
      succeeded: accepted > 0,
      details: { installs: farm.length, accepted },
    });
  }
  return out;
}

export async function runAbuseSim(o: { seed?: string | number } = {}) {
  const seed = Number(o.seed ?? 1);
  // The drift job would read every event on each tick; it has no part in this.
  process.env.DRIFT_INTERVAL_MS = '0';
  const quiet = await startWorld();
  const attacked = await startWorld();
  try {
    progress('seeding the same honest fleet into two worlds');
    const q = await seedFleet(quiet, seed);
    const a = await seedFleet(attacked, seed);
    const before = await snapshot(attacked);
    const acceptedOf = async (w: World, ids: string[]) => (await w.app.store.listCorrections({ status: 'accepted', limit: 10_000 })).items.filter((c) => ids.includes(c.eventId)).length;
    const legitAccepted = await acceptedOf(attacked, a.consensus);
    const quietAccepted = await acceptedOf(quiet, q.consensus);
    const attacks = await attack(attacked, seed);
    progress('comparing the worlds');
    await attacked.admin('/v1/admin/review/auto-accept', {});
    const after = await snapshot(attacked);
    const guardQuiet = (await quiet.admin('/v1/admin/models/guard/run', {})).body;
    const guardAttacked = (await attacked.admin('/v1/admin/models/guard/run', {})).body;
    // The decision is the action (and the step it goes to); the reason's figures say whether anything moved at all.
    const decision = (g: any) => (g?.decision ? `${g.decision.action}${g.decision.to ? ` to ${g.decision.to}%` : ''}` : `none (${JSON.stringify(g)})`);
    const guardSame = decision(guardQuiet) === decision(guardAttacked);
    for (const x of attacks.filter((a) => ['canary-flood', 'failure-reports-one-network', 'abstain-farm-one-network'].includes(a.name))) {
      x.succeeded = !guardSame;
      x.details = { ...x.details, guardQuiet: decision(guardQuiet), guardAttacked: decision(guardAttacked) };
    }
    const unchanged = {
      taxa: same(before.taxa, after.taxa),
      trainingExport: same(before.trainingExport, after.trainingExport),
      guard: guardSame,
    };
    const result = {
      scenario: 'abuse',
      seed,
      legitimate: { consensusCorrections: a.consensus.length, acceptedAutomatically: legitAccepted, quietWorldAccepted: quietAccepted, trainingExport: before.trainingExport.length },
      attacks: attacks.map((x) => ({ name: x.name, tried: x.tried, outcome: x.succeeded ? 'SUCCEEDED' : 'blocked', ...x.details })),
      unchanged,
      guard: { quiet: decision(guardQuiet), attacked: decision(guardAttacked), reasonQuiet: guardQuiet?.decision?.reason ?? null, reasonAttacked: guardAttacked?.decision?.reason ?? null },
      ok: attacks.every((x) => !x.succeeded) && unchanged.taxa && unchanged.trainingExport && unchanged.guard && legitAccepted === a.consensus.length && quietAccepted === q.consensus.length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.ok) process.exitCode = 1;
    return result;
  } finally {
    await quiet.close();
    await attacked.close();
  }
}
