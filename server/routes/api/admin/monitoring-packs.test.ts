/**
 * GET /v1/admin/monitoring/packs on both backends, fed through POST
 * /v1/events as devices send: per pack version and day, runs, the share
 * routed by the user's tap, confidence, the correction rate with its Wilson
 * interval and top labels; an empty answer when no identification ran a
 * pack; and a pack version whose top-1 mix shifts raises a drift alert
 * named after the pack, like a base version's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { AppOptions } from '../../../app.ts';
import { tempRegistry } from '../../../testing/guard-traffic.ts';
import { addPackVersion } from '../../../testing/pack-version.ts';
import { BACKENDS } from '../../../testing/backends.ts';
import { admin, request, serveFresh } from '../../../testing/http.ts';
import { correction, identification, TAXON_IDS } from '../../../testing/fixtures.ts';
import { wilson } from '../../../../core/intervals.ts';
import type { PackMetricsResponse } from '../../../../core/api/pack-monitoring.ts';

const DAY_MS = 86_400_000;
const dayString = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

describe.each(BACKENDS)('species-pack monitoring API on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    // The first two days are the reference; the timer is off (drift runs on request).
    // A registry with a second version of the bird pack (events naming a version it does not list are refused).
    const opts: Partial<AppOptions> = { monitoring: { referenceDays: 2, intervalMs: 0 } };
    beforeAll(async () => {
      opts.registryDir = tempRegistry();
      await addPackVersion(opts.registryDir, 'inat-birds');
    });
    afterAll(() => {
      if (opts.registryDir) rmSync(opts.registryDir, { recursive: true, force: true });
    });
    const app = serveFresh(backend, opts);

    it('needs the admin token, and says there is nothing when no identification ran a pack', async () => {
      expect((await request(`${app.url}/v1/admin/monitoring/packs`)).status).toBe(401);
      expect((await app.postEvents([identification({ installId: randomUUID() })])).status).toBe(200);
      const empty = await admin(`${app.url}/v1/admin/monitoring/packs?days=7`);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ from: dayString(6), to: dayString(0), series: [], versions: [] });
      expect((await admin(`${app.url}/v1/admin/monitoring/packs?days=0`)).status).toBe(400);
    });

    it('reports each pack version per day from its runs and their corrections, and scores its drift', async () => {
      // 80 installs, 3 runs a day each (every run weighs in full): days 3 and 2 ago a stable mix; yesterday another taxon takes half.
      const installs = Array.from({ length: 80 }, () => randomUUID());
      const events: unknown[] = [];
      const runs: ReturnType<typeof identification>[] = [];
      for (const ago of [3, 2, 1]) {
        for (let i = 0; i < 240; i++) {
          const drifted = ago === 1 && i % 2 === 0;
          const e = identification({
            installId: installs[i % 80],
            hour: `${dayString(ago)}T09:00:00.000Z`,
            pack: { id: 'inat-birds', version: '1.0.0', routedBy: i % 4 === 0 ? 'user' : 'rollup', top5: [{ taxonId: drifted ? TAXON_IDS[12] : TAXON_IDS[10 + (i % 2)], p: drifted ? 0.3 : 0.9 }] },
          });
          runs.push(e);
          events.push(e);
        }
      }
      // A second version, a few runs yesterday; and identifications that ran no pack.
      for (let i = 0; i < 10; i++)
        events.push(
          identification({ installId: installs[i], hour: `${dayString(1)}T10:00:00.000Z`, pack: { id: 'inat-birds', version: '1.0.1', routedBy: 'user', top5: [{ taxonId: TAXON_IDS[11], p: 0.5 }] } }),
        );
      for (let i = 0; i < 30; i++) events.push(identification({ installId: installs[i], hour: `${dayString(1)}T10:00:00.000Z` }));
      // Day 2 ago: 12 of its runs corrected and 6 confirmed by their own installs.
      const day2 = runs.slice(240, 480);
      for (let i = 0; i < 18; i++) {
        const run = day2[i * 7];
        events.push(
          correction({ installId: run.installId, correctsEventId: run.eventId, modelVersion: run.modelVersion, hour: run.hour, verdict: i < 12 ? 'corrected' : 'confirmed', taxonId: TAXON_IDS[3] }),
        );
      }
      for (let i = 0; i < events.length; i += 400) expect((await app.postEvents(events.slice(i, i + 400))).status).toBe(200);

      const res = await admin(`${app.url}/v1/admin/monitoring/packs?days=5`);
      expect(res.status).toBe(200);
      const body = res.body as PackMetricsResponse;
      expect(body.series.map((s) => [s.packVersion, s.day, s.runs])).toEqual([
        ['1.0.0', dayString(3), 240],
        ['1.0.0', dayString(2), 240],
        ['1.0.0', dayString(1), 240],
        ['1.0.1', dayString(1), 10],
      ]);
      const [d3, d2, d1] = body.series;
      expect(d3.tappedShare).toBeCloseTo(0.25, 12);
      expect(d3.meanConfidence).toBeCloseTo(0.9, 6);
      // 0.9 sits in bin 9 ([0.9, 1]): the median interpolates to its middle.
      expect(d3.medianConfidence).toBeCloseTo(0.95, 12);
      expect(d3.topLabels).toEqual([
        { taxonId: [TAXON_IDS[10], TAXON_IDS[11]].sort()[0], count: 120 },
        { taxonId: [TAXON_IDS[10], TAXON_IDS[11]].sort()[1], count: 120 },
      ]);
      expect([d2.corrections, d2.confirmations, d3.corrections]).toEqual([12, 6, 0]);
      expect(d2.correctionRate).toBeCloseTo(12 / 240, 12);
      expect(d2.correctionInterval).toEqual(wilson(12, 240));
      expect(d1.meanConfidence).toBeCloseTo(0.6, 6);
      expect(d1.topLabels[0]).toEqual({ taxonId: TAXON_IDS[12], count: 120 });
      const v = body.versions.find((x) => x.packVersion === '1.0.0')!;
      expect([v.packId, v.runs, v.corrections]).toEqual(['inat-birds', 720, 12]);
      expect(v.correctionInterval).toEqual(wilson(12, 720));
      // A range that ends before them shows none.
      expect((await admin(`${app.url}/v1/admin/monitoring/packs?days=2&to=${dayString(5)}`)).body.series).toEqual([]);

      expect((await admin(`${app.url}/v1/admin/monitoring/drift/run`, { method: 'POST' })).status).toBe(200);
      const key = 'pack:inat-birds@1.0.0';
      const alerts = await admin(`${app.url}/v1/admin/monitoring/alerts?level=alert&modelVersion=${encodeURIComponent(key)}`);
      expect(alerts.body.items.map((a: { day: string; metric: string }) => `${a.day} ${a.metric}`).sort()).toEqual([`${dayString(1)} confidence`, `${dayString(1)} prediction`]);
      const metrics = await request(`${app.url}/metrics`);
      expect(metrics.body).toContain(`wildsight_drift_level{model_version="${key}"} 2`);
    }, 120_000);
  });
});
