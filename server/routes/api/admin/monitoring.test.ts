/** Monitoring and review routes on both backends: metrics, drift and stored alerts, /metrics gauges, data quality, the review queue and the two-installs rule. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../../testing/backends.ts';
import { admin, request, serveFresh } from '../../../testing/http.ts';
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
      for (const ago of [3, 2, 1]) {
        const hour = `${dayString(ago)}T10:00:00.000Z`;
        for (let i = 0; i < 240; i++) {
          const drifted = ago === 1 && i % 2 === 0;
          const taxon = drifted ? TAXON_IDS[7] : TAXON_IDS[i % 2];
          const p = drifted ? 0.35 : 0.85;
          events.push(identification({ hour, top5: [{ taxonId: taxon, p }], otherProbability: 0.05, abstain: false, backend: i % 3 ? 'wasm' : 'webgpu', timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 10, totalMs: 20 + (i % 10) } }));
        }
      }
      for (let i = 0; i < events.length; i += 500) expect((await post(events.slice(i, i + 500))).status).toBe(200);
      const version = MANIFEST.active;

      const m = await admin(`${app.url}/v1/admin/monitoring/metrics?from=${dayString(3)}&to=${dayString(1)}`);
      expect(m.status).toBe(200);
      const series = m.body.series.filter((s: { modelVersion: string }) => s.modelVersion === version);
      expect(series.map((s: { bucket: string; identifications: number }) => [s.bucket, s.identifications])).toEqual([[dayString(3), 240], [dayString(2), 240], [dayString(1), 240]]);
      expect(series[2].confidenceHistogram[3]).toBe(120);
      expect(series[0].latency.wasm.n).toBe(160);
      expect(m.body.versions.find((v: { modelVersion: string }) => v.modelVersion === version).identifications).toBe(720);

      expect((await admin(`${app.url}/v1/admin/monitoring/reference/${version}`, { method: 'PUT', json: { from: dayString(3), to: dayString(2) } })).status).toBe(200);
      const d = await admin(`${app.url}/v1/admin/monitoring/drift?from=${dayString(3)}`);
      expect(d.body.references[version]).toEqual({ from: dayString(3), to: dayString(2), n: 480 });
      const levels = d.body.points.filter((p: { modelVersion: string }) => p.modelVersion === version).map((p: { day: string; level: string }) => [p.day, p.level]);
      expect(levels).toEqual([[dayString(3), 'ok'], [dayString(2), 'ok'], [dayString(1), 'alert']]);

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

    it('queues corrections for review; two installs naming the same new species accept it; a reviewer decides the rest', async () => {
      const name = `Test species ${randomUUID().slice(0, 8)}`;
      const one = correction({ installId: randomUUID(), taxonId: undefined, proposedName: name });
      const lone = correction({ installId: randomUUID(), taxonId: TAXON_IDS[9] });
      expect((await post([one, lone])).status).toBe(200);
      let queue = await admin(`${app.url}/v1/admin/review`);
      const ids = queue.body.items.map((i: { eventId: string }) => i.eventId);
      expect(ids).toEqual(expect.arrayContaining([one.eventId, lone.eventId]));
      const item = queue.body.items.find((i: { eventId: string }) => i.eventId === one.eventId);
      expect(item).toMatchObject({ status: 'pending', installs: 1, label: expect.stringMatching(/^proposed-test-species-/) });

      // A second install, differently spelled: the rule accepts both (right after the batch, or on demand).
      const two = correction({ installId: randomUUID(), taxonId: undefined, proposedName: `  ${name.toUpperCase()} ` });
      expect((await post([two])).status).toBe(200);
      await admin(`${app.url}/v1/admin/review/auto-accept`, { method: 'POST' });
      queue = await admin(`${app.url}/v1/admin/review?status=accepted`);
      expect(queue.body.items.map((i: { eventId: string }) => i.eventId)).toEqual(expect.arrayContaining([one.eventId, two.eventId]));
      const taxa = await request(`${app.url}/v1/taxa`);
      expect(taxa.body.taxa.some((t: { commonName: string; source: string }) => t.source === 'proposed' && t.commonName.trim().toLowerCase() === name.toLowerCase())).toBe(true);

      const decided = await admin(`${app.url}/v1/admin/review/${lone.eventId}`, { method: 'POST', json: { decision: 'reject' } });
      expect(decided.body).toEqual({ eventId: lone.eventId, status: 'rejected' });
      expect((await admin(`${app.url}/v1/admin/review/${randomUUID()}`, { method: 'POST', json: { decision: 'accept' } })).status).toBe(404);
      expect((await admin(`${app.url}/v1/admin/review/${lone.eventId}`, { method: 'POST', json: { decision: 'maybe' } })).status).toBe(400);
    });
  });
});
