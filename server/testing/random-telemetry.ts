/**
 * Seeded random telemetry for the rollup tests (server/storage/rollups.test.ts,
 * pack-rollups.test.ts): identifications and corrections from ordinary and
 * flooding installs, in random batches, so each test compares its rollups
 * with a full recomputation on the same kind of data.
 */
import { correction, embedding, identification, TAXON_IDS } from './fixtures.ts';
import { seededRandom } from '../../core/random.ts';
import type { CorrectionEvent, IdentificationEvent, TelemetryEvent } from '../../core/telemetry.ts';

/** The species packs the data runs: [id, version]. */
export const PACKS = [
  ['inat-birds', '1.0.0'],
  ['inat-birds', '1.1.0'],
  ['inat-insects', '1.0.0'],
] as const;

export const DAY0 = Date.parse('2026-10-01T00:00:00.000Z');
const HOUR = 3_600_000;

function uuid(random: () => number): string {
  const h = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A seeded mix: 40 ordinary installs, 2 that flood some days (past the cap
 * of 50), two versions, 4 days. About 60% of identifications ran a species
 * pack (a flooding install's mostly the same one, so it passes the cap in
 * that pack's day too), drawn from a stream of their own like shadow runs.
 */
export function randomEvents(seed: number) {
  const random = seededRandom(seed);
  // Shadow runs draw from their own stream, so the rest of the data is what it was without them.
  const shadowRandom = seededRandom(seed + 1000);
  const shadowOf = () => {
    if (shadowRandom() < 0.4) return {};
    const failed = shadowRandom() < 0.2;
    return {
      shadow: { modelVersion: shadowRandom() < 0.7 ? '1.1.0' : '1.0.0', failed, top1Agree: !failed && shadowRandom() < 0.6, top5Overlap: failed ? 0 : Math.floor(shadowRandom() * 6), inferenceMs: 20 },
    };
  };
  const packRandom = seededRandom(seed + 2000);
  const packOf = (flood: boolean) => {
    if (packRandom() < 0.4) return {};
    const [id, version] = flood && packRandom() < 0.9 ? PACKS[0] : PACKS[Math.floor(packRandom() * PACKS.length)];
    const top5 = [{ taxonId: TAXON_IDS[10 + Math.floor(packRandom() * (flood ? 3 : 6))], p: packRandom() }];
    return { pack: { id, version, routedBy: packRandom() < 0.25 ? ('user' as const) : ('rollup' as const), top5 } };
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const versions = ['0.9.0', '1.0.0'];
  const taxa = TAXON_IDS.slice(0, 6);
  const installs = Array.from({ length: 42 }, () => uuid(random));
  const events: TelemetryEvent[] = [];
  const ids: IdentificationEvent[] = [];
  const ident = (installId: string, day: number, version = pick(versions), flood = false) => {
    const e = identification({
      eventId: uuid(random),
      installId: random() < 0.1 ? installId.toUpperCase() : installId,
      modelVersion: version,
      backend: pick(['wasm', 'webgpu'] as const),
      timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: Math.exp(2 + random() * 5) },
      top5: [{ taxonId: pick(taxa), p: random() }],
      abstain: random() < 0.15,
      hour: new Date(DAY0 + day * 86_400_000 + Math.floor(random() * 24) * HOUR).toISOString(),
      ...shadowOf(),
      ...packOf(flood),
    });
    ids.push(e);
    events.push(e);
  };
  for (let day = 0; day < 4; day++) {
    for (const install of installs.slice(0, 40)) for (let k = Math.floor(random() * 6); k > 0; k--) ident(install, day);
    // Floods: one install on days 1 and 2, the other on day 3, 60-140 events each.
    const flooders = day === 3 ? [installs[41]] : day > 0 ? [installs[40]] : [];
    for (const f of flooders) for (let k = 60 + Math.floor(random() * 80); k > 0; k--) ident(f, day, '1.0.0', true);
  }
  // Corrections of a fifth of them (some cite nothing stored: they stay waiting), by the identification's install.
  for (const e of ids) {
    if (random() > 0.2) continue;
    const cites = random() < 0.1 ? uuid(random) : e.eventId;
    const c: CorrectionEvent = correction({
      // Mostly the identification's hour; some a day later (an hour that may hold no identification of that version).
      eventId: uuid(random),
      installId: e.installId,
      correctsEventId: cites,
      modelVersion: e.modelVersion,
      hour: random() < 0.8 ? e.hour : new Date(Date.parse(e.hour) + 86_400_000 + 3_600_000 * Math.floor(random() * 3)).toISOString(),
      verdict: random() < 0.7 ? 'corrected' : 'confirmed',
      taxonId: pick(taxa),
      embedding: embedding(8, 1),
    });
    events.push(c);
  }
  // Random order: a correction may arrive before the identification it cites.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  const batches: TelemetryEvent[][] = [];
  for (let i = 0; i < events.length;) {
    const n = 1 + Math.floor(random() * 120);
    batches.push(events.slice(i, i + n));
    i += n;
  }
  return { batches, installs, ids };
}
