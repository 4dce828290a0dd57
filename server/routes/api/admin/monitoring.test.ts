/** Monitoring and review routes on both backends: metrics, drift and stored alerts, /metrics gauges, data quality, the review queue and the independent-installs rule. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../../testing/backends.ts';
import { admin, request, serveFresh } from '../../../testing/http.ts';
import { installToken } from '../../../plugins/app/install-credentials.ts';
import { correction, identification, MANIFEST, TAXON_IDS } from '../../../testing/fixtures.ts';

const DAY_MS = 86_400_000;
const dayString = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

describe.each(BACKENDS)('monitoring and review API on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    const app = serveFresh(backend);
    const post = app.postEvents;

    it('needs the admin token', async () => {
      for (const path of ['/v1/admin/monitoring/metrics', '/v1/admin/monitoring/drift', '/v1/admin/monitoring/alerts', '/v1/admin/monitoring/quality', '/v1/admin/review']) {
        expect((await request(`${app.url}${path}`)).status, path).toBe(401);
      }
    });

    it('aggregates metrics per version and day, scores drift against a chosen reference, stores alerts and exports gauges', async () => {
      // Days 3 and 2 ago: a stable mix of two taxa; yesterday: a third taxon takes over, with lower confidence.
      const events = [];
      // 80 installs with 3 photos a day each: every event weighs in full (see core/install-weight.ts).
      const installs = Array.from({ length: 80 }, () => randomUUID());
      for (const ago of [3, 2, 1]) {
        const hour = `${dayString(ago)}T10:00:00.000Z`;
        for (let i = 0; i < 240; i++) {
          const drifted = ago === 1 && i % 2 === 0;
          const taxon = drifted ? TAXON_IDS[7] : TAXON_IDS[i % 2];
          const p = drifted ? 0.35 : 0.85;
          events.push(
            identification({
              installId: installs[i % 80],
              hour,
              top5: [{ taxonId: taxon, p }],
              otherProbability: 0.05,
              abstain: false,
              backend: i % 3 ? 'wasm' : 'webgpu',
              timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 10, totalMs: 20 + (i % 10) },
            }),
          );
        }
      }
      for (let i = 0; i < events.length; i += 500) expect((await post(events.slice(i, i + 500))).status).toBe(200);
      const version = MANIFEST.active;

      const m = await admin(`${app.url}/v1/admin/monitoring/metrics?from=${dayString(3)}&to=${dayString(1)}`);
      expect(m.status).toBe(200);
      const series = m.body.series.filter((s: { modelVersion: string }) => s.modelVersion === version);
      expect(series.map((s: { bucket: string; identifications: number }) => [s.bucket, s.identifications])).toEqual([
        [dayString(3), 240],
        [dayString(2), 240],
        [dayString(1), 240],
      ]);
      expect(series[2].confidenceHistogram[3]).toBe(120);
      expect(series[0].latency.wasm.n).toBe(160);
      expect(m.body.versions.find((v: { modelVersion: string }) => v.modelVersion === version).identifications).toBe(720);

      expect((await admin(`${app.url}/v1/admin/monitoring/reference/${version}`, { method: 'PUT', json: { from: dayString(3), to: dayString(2) } })).status).toBe(200);
      const d = await admin(`${app.url}/v1/admin/monitoring/drift?from=${dayString(3)}`);
      expect(d.body.references[version]).toEqual({ from: dayString(3), to: dayString(2), n: 480 });
      const levels = d.body.points.filter((p: { modelVersion: string }) => p.modelVersion === version).map((p: { day: string; level: string }) => [p.day, p.level]);
      expect(levels).toEqual([
        [dayString(3), 'ok'],
        [dayString(2), 'ok'],
        [dayString(1), 'alert'],
      ]);

      const run = await admin(`${app.url}/v1/admin/monitoring/drift/run`, { method: 'POST' });
      expect(run.status).toBe(200);
      const alerts = await admin(`${app.url}/v1/admin/monitoring/alerts?level=alert&modelVersion=${version}`);
      expect(alerts.body.items.map((a: { day: string; metric: string }) => `${a.day} ${a.metric}`).sort()).toEqual([`${dayString(1)} confidence`, `${dayString(1)} prediction`]);
      expect(alerts.body.thresholds).toEqual({ psiWarn: 0.1, psiAlert: 0.25, jsWarn: 0.1, jsAlert: 0.2 });

      const metrics = await request(`${app.url}/metrics`);
      expect(metrics.body).toMatch(new RegExp(`wildsight_drift_psi\\{model_version="${version.replace(/\./g, '\\.')}",metric="prediction"\\} [0-9.]+`));
      expect(metrics.body).toContain(`wildsight_drift_level{model_version="${version}"} 2`);
      expect(metrics.body).toContain(`wildsight_drift_alerts{model_version="${version}",level="alert"} 2`);
    });

    it('counts duplicates and refusals by reason per day for the data-quality report', async () => {
      const ok = identification();
      const bad = identification({ otherProbability: 0.9 });
      expect((await post([ok, bad])).status).toBe(422);
      expect((await post([ok])).body.duplicates).toBe(1);
      const q = await admin(`${app.url}/v1/admin/monitoring/quality`);
      const today = q.body.days.find((d: { day: string }) => d.day === new Date().toISOString().slice(0, 10));
      expect(today.duplicates).toBeGreaterThanOrEqual(1);
      expect(today.rejected['invalid-probabilities']).toBeGreaterThanOrEqual(1);
      expect(today.errorRate).toBeGreaterThan(0);
    });

    it('pages the review queue in SQL: every pending correction once, oldest first', async () => {
      const installId = randomUUID();
      const evs = Array.from({ length: 5 }, () => {
        const seen = identification({ installId });
        return [seen, correction({ installId, correctsEventId: seen.eventId, taxonId: TAXON_IDS[11] })];
      }).flat();
      expect((await post(evs)).status).toBe(200);
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: any } = await admin(`${app.url}/v1/admin/review?limit=2${after ? `&after=${after}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((i: { eventId: string }) => i.eventId));
        after = res.body.next;
        pages++;
      } while (after);
      expect(new Set(seen).size).toBe(seen.length);
      const mine = evs.filter((e) => e.type === 'correction').map((e) => e.eventId);
      // One batch arrives at one instant; within it the queue orders by event id.
      expect(seen.filter((id) => mine.includes(id))).toEqual([...mine].sort());
      expect(pages).toBeGreaterThanOrEqual(3);
      expect((await admin(`${app.url}/v1/admin/review?after=garbage`)).status).toBe(400);
    });

    it('queues corrections for review; three independent installs accept a confusion; typed names wait for a reviewer', async () => {
      const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS);
      // Installs with day-old credentials from three networks, each with identifications of its own.
      const people = await Promise.all(
        ['10.1.1.5', '10.2.2.5', '10.3.3.5', '10.3.3.9'].map(async (address) => {
          const installId = randomUUID();
          await installToken(app.server.app, installId, { issuedAt: twoDaysAgo, address });
          const history = Array.from({ length: 3 }, () => identification({ installId }));
          expect((await post(history)).status).toBe(200);
          return installId;
        }),
      );
      // Each corrects its own identification where the model said TAXON_IDS[0] (the fixtures' top-1).
      const confusion = async (installId: string, over = {}) => {
        const seen = identification({ installId });
        const fix = correction({ installId, correctsEventId: seen.eventId, taxonId: TAXON_IDS[9], ...over });
        expect((await post([seen, fix])).status).toBe(200);
        return fix;
      };
      const name = `Test species ${randomUUID().slice(0, 8)}`;
      const typed = await Promise.all(people.map((installId) => confusion(installId, { taxonId: undefined, proposedName: name })));
      const first = await confusion(people[0]);
      const sameNetwork = [await confusion(people[2]), await confusion(people[3])];
      // A fresh install (no day-old credential) cannot vote, nor can a correction citing nothing stored.
      const fresh = await confusion(randomUUID());
      const ungrounded = correction({ installId: people[1], taxonId: TAXON_IDS[9] });
      expect((await post([ungrounded])).status).toBe(200);

      await admin(`${app.url}/v1/admin/review/auto-accept`, { method: 'POST' });
      let queue = await admin(`${app.url}/v1/admin/review?limit=1000`);
      const pending = (id: string) => queue.body.items.find((i: { eventId: string }) => i.eventId === id);
      // Two networks so far (the third and fourth install share one): nothing accepted.
      // installs counts every install whose grounded correction agrees (the fresh one too), votes or not.
      expect(pending(first.eventId)).toMatchObject({ status: 'pending', installs: 4, voteRefusal: null });
      expect(pending(fresh.eventId).voteRefusal).toMatch(/too new/);
      expect(pending(ungrounded.eventId)).toMatchObject({ grounding: 'waiting', voteRefusal: expect.stringMatching(/stored identification/) });
      expect(pending(typed[0].eventId)).toMatchObject({ installs: 4, label: expect.stringMatching(/^proposed-test-species-/), voteRefusal: expect.stringMatching(/reviewer/) });

      // The second network agrees: three networks, so the confusion is accepted; the typed name still waits.
      const second = await confusion(people[1]);
      await admin(`${app.url}/v1/admin/review/auto-accept`, { method: 'POST' });
      queue = await admin(`${app.url}/v1/admin/review?status=accepted&limit=1000`);
      const accepted = queue.body.items.map((i: { eventId: string }) => i.eventId);
      expect(accepted).toEqual(expect.arrayContaining([first.eventId, second.eventId, ...sameNetwork.map((c) => c.eventId)]));
      for (const c of [fresh, ungrounded, ...typed]) expect(accepted).not.toContain(c.eventId);
      const hasName = async () => (await request(`${app.url}/v1/taxa`)).body.taxa.some((t: { commonName: string; source: string }) => t.source === 'proposed' && t.commonName === name);
      expect(await hasName()).toBe(false);

      // A person accepts the name: now it is public. An ungrounded correction cannot be accepted at all.
      expect((await admin(`${app.url}/v1/admin/review/${typed[0].eventId}`, { method: 'POST', json: { decision: 'accept' } })).status).toBe(200);
      expect(await hasName()).toBe(true);
      const refused = await admin(`${app.url}/v1/admin/review/${ungrounded.eventId}`, { method: 'POST', json: { decision: 'accept' } });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/does not cite a stored identification/);

      const decided = await admin(`${app.url}/v1/admin/review/${fresh.eventId}`, { method: 'POST', json: { decision: 'reject' } });
      expect(decided.body).toEqual({ eventId: fresh.eventId, status: 'rejected' });
      expect((await admin(`${app.url}/v1/admin/review/${randomUUID()}`, { method: 'POST', json: { decision: 'accept' } })).status).toBe(404);
      expect((await admin(`${app.url}/v1/admin/review/${fresh.eventId}`, { method: 'POST', json: { decision: 'maybe' } })).status).toBe(400);
    });
  });
});
