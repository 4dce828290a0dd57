import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import {
  MAX_BATCH_EVENTS,
  TelemetryEventSchema,
  onGrid,
  roundToCell,
  truncateToHour,
  validateEvent,
  packKey,
  type CorrectionEvent,
  type IdentificationEvent,
  type ValidationContext,
} from './telemetry.ts';
import { EventEnvelopeSchema } from './api/events.ts';

const ctx: ValidationContext = {
  taxonIds: new Set(['ostrich', 'lynx', 'zebra', 'bee', 'ant', 'otter']),
  embeddingSizes: new Map([
    ['1.0.0', 1280],
    ['0.9.0', 1024],
  ]),
  packEmbeddingSizes: new Map([[packKey('inat-birds', '1.0.0'), 1280]]),
};

const ID_A = '3b241101-e2bb-4255-8caf-4136c566a962';
const ID_B = '9f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const INSTALL = '6f9619ff-8b86-4011-b42d-00c04fc964ff';

const identification = (over: Partial<IdentificationEvent> = {}): IdentificationEvent => ({
  type: 'identification',
  eventId: ID_A,
  installId: INSTALL,
  modelVersion: '1.0.0',
  backend: 'wasm',
  timings: { decodeMs: 3, preprocessMs: 4, inferenceMs: 40, totalMs: 50 },
  top5: [
    { taxonId: 'lynx', p: 0.7 },
    { taxonId: 'otter', p: 0.1 },
  ],
  otherProbability: 0.1,
  abstain: false,
  appVersion: '0.1.0',
  hour: '2026-11-26T12:00:00.000Z',
  ...over,
});

const correction = (over: Partial<CorrectionEvent> = {}): CorrectionEvent => ({
  type: 'correction',
  eventId: ID_B,
  installId: INSTALL,
  correctsEventId: ID_A,
  verdict: 'corrected',
  taxonId: 'zebra',
  modelVersion: '1.0.0',
  embedding: new Array(1280).fill(0.5),
  appVersion: '0.1.0',
  hour: '2026-11-26T12:00:00Z',
  ...over,
});

/** Minimal JPEG: SOI, optional APP1, SOF0 with the size, SOS, a byte of data, EOI. */
function jpeg(width: number, height: number, app1?: string, { end = true } = {}): Uint8Array {
  const seg = (marker: number, body: number[]) => [0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body];
  const app = app1 ? seg(0xe1, [...Array.from(app1, (c) => c.charCodeAt(0)), 0, 0, 0x4d, 0x4d]) : [];
  const sof = seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const sos = seg(0xda, [1, 1, 0, 0, 63, 0]);
  return Uint8Array.from([0xff, 0xd8, ...app, ...sof, ...sos, 0x12, ...(end ? [0xff, 0xd9] : [])]);
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function rejected(event: unknown, reason: string, context: ValidationContext = ctx) {
  const r = validateEvent(event, context);
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.reason).toBe(reason);
  // A person reads this: a real sentence, nothing leaked from the code.
  expect(r.message.length).toBeGreaterThan(10);
  expect(r.message).not.toMatch(/\[object|undefined$/);
  return r.message;
}

describe('truncateToHour', () => {
  it('keeps the hour and drops minutes, seconds and milliseconds, in UTC', () => {
    expect(truncateToHour(new Date('2024-05-01T14:37:12.345Z'))).toBe('2024-05-01T14:00:00.000Z');
    expect(truncateToHour('2024-05-01T23:59:59.999+02:00')).toBe('2024-05-01T21:00:00.000Z');
    expect(truncateToHour(0)).toBe('1970-01-01T00:00:00.000Z');
  });
  it('gives a value the hour pattern accepts', () => {
    expect(validateEvent(identification({ hour: truncateToHour(Date.now()) }), ctx)).toEqual({ ok: true });
  });
  it('refuses an invalid time', () => {
    expect(() => truncateToHour('yesterday')).toThrow(/not a valid time/);
  });
});

describe('roundToCell and onGrid', () => {
  it('rounds to the nearest 0.2-degree cell with no float noise', () => {
    expect(roundToCell(51.5074, -0.1278)).toEqual({ lat: 51.6, lon: -0.2 });
    expect(roundToCell(0.31, 0.29)).toEqual({ lat: 0.4, lon: 0.2 });
    expect(roundToCell(-33.8688, 151.2093)).toEqual({ lat: -33.8, lon: 151.2 });
    expect(roundToCell(0.05, -0.05)).toEqual({ lat: 0, lon: 0 }); // no -0
  });
  it('wraps longitude at the antimeridian and clamps latitude', () => {
    expect(roundToCell(10, 179.95)).toEqual({ lat: 10, lon: -180 });
    expect(roundToCell(95, 0)).toEqual({ lat: 90, lon: 0 });
  });
  it('produces values that are on the grid', () => {
    for (let i = 0; i < 1000; i++) {
      const c = roundToCell(Math.random() * 180 - 90, Math.random() * 360 - 180);
      expect(onGrid(c.lat) && onGrid(c.lon), JSON.stringify(c)).toBe(true);
    }
  });
  it('tells grid points from points off it', () => {
    expect(onGrid(51.6)).toBe(true);
    expect(onGrid(0.6000000000000001)).toBe(true);
    expect(onGrid(51.61)).toBe(false);
    expect(onGrid(51.6000011)).toBe(false);
  });
  it('refuses non-finite input', () => {
    expect(() => roundToCell(Number.NaN, 0)).toThrow(/finite/);
  });
});

describe('validateEvent: identifications', () => {
  it('accepts a well-formed event', () => {
    expect(validateEvent(identification(), ctx)).toEqual({ ok: true });
    expect(validateEvent(identification({ hour: '2026-11-26T12:00:00Z', backend: 'webgpu' }), ctx)).toEqual({ ok: true });
  });
  it('says what is wrong with the shape, with the path', () => {
    expect(rejected(identification({ timings: { decodeMs: -1, preprocessMs: 0, inferenceMs: 0, totalMs: 0 } }), 'invalid-event')).toMatch(/timings\/decodeMs/);
    expect(rejected(identification({ timings: { decodeMs: 1, preprocessMs: 0, inferenceMs: 0, totalMs: 600_001 } }), 'invalid-event')).toMatch(/totalMs/);
    expect(rejected(identification({ eventId: 'not-a-uuid' }), 'invalid-event')).toMatch(/eventId/);
    // version 1 (time-based) ids identify the device and the moment
    rejected(identification({ eventId: 'c232ab00-9414-11ec-b3c8-9f6bdeced846' }), 'invalid-event');
    expect(rejected(identification({ hour: '2026-11-26T12:34:00.000Z' }), 'invalid-event')).toMatch(/hour/);
    rejected(identification({ top5: [] }), 'invalid-event');
    rejected(identification({ top5: new Array(6).fill(0).map((_, i) => ({ taxonId: [...ctx.taxonIds][i], p: 0.01 })) }), 'invalid-event');
    rejected(identification({ backend: 'cuda' as never }), 'invalid-event');
    rejected({ ...identification(), deviceModel: 'Pixel 8' }, 'invalid-event');
    rejected(identification({ modelVersion: 'latest' }), 'invalid-event');
  });
  it('knows the types it takes', () => {
    expect(rejected(null, 'not-an-object')).toMatch(/object/);
    rejected([identification()], 'not-an-object');
    expect(rejected({ ...identification(), type: 'click' }, 'unknown-type')).toMatch(/"click"/);
    rejected({ eventId: ID_A }, 'unknown-type');
  });
  it('checks taxa, model versions, probabilities and real hours', () => {
    expect(rejected(identification({ top5: [{ taxonId: 'unicorn', p: 0.5 }] }), 'unknown-taxon')).toMatch(/unicorn/);
    rejected(
      identification({
        top5: [
          { taxonId: 'lynx', p: 0.5 },
          { taxonId: 'lynx', p: 0.1 },
        ],
      }),
      'duplicate-taxon',
    );
    expect(rejected(identification({ modelVersion: '2.0.0' }), 'unknown-model-version')).toMatch(/1\.0\.0/);
    rejected(identification({ top5: [{ taxonId: 'lynx', p: 0.9 }], otherProbability: 0.5 }), 'invalid-probabilities');
    rejected(identification({ hour: '2026-13-40T12:00:00Z' }), 'invalid-hour');
  });
  it('accepts the optional shadow result and error count, and checks them', () => {
    const shadow = { modelVersion: '0.9.0', top1Agree: true, top5Overlap: 4, inferenceMs: 35.2, failed: false };
    expect(validateEvent(identification({ shadow }), ctx)).toEqual({ ok: true });
    expect(validateEvent(identification({ errors: 2 }), ctx)).toEqual({ ok: true });
    // Events without them (older clients) stay valid.
    expect(validateEvent(identification(), ctx)).toEqual({ ok: true });
    rejected(identification({ shadow: { ...shadow, top5Overlap: 6 } }), 'invalid-event');
    rejected(identification({ shadow: { ...shadow, extra: 1 } as never }), 'invalid-event');
    rejected(identification({ errors: -1 }), 'invalid-event');
    expect(rejected(identification({ shadow: { ...shadow, modelVersion: '3.0.0' } }), 'unknown-model-version')).toMatch(/shadow/);
  });
});

describe('validateEvent: corrections', () => {
  it('accepts a known taxon, a confirmation and a proposed new species', () => {
    expect(validateEvent(correction(), ctx)).toEqual({ ok: true });
    expect(validateEvent(correction({ verdict: 'confirmed', taxonId: 'lynx' }), ctx)).toEqual({ ok: true });
    expect(validateEvent(correction({ taxonId: undefined, proposedName: 'Eurasian beaver' }), ctx)).toEqual({ ok: true });
    expect(validateEvent(correction({ modelVersion: '0.9.0', embedding: new Array(1024).fill(-1.25) }), ctx)).toEqual({ ok: true });
  });
  it('accepts the photo count of an observation (1 to 5 photos), and an event without one', () => {
    expect(validateEvent(correction({ photoCount: 3 }), ctx)).toEqual({ ok: true });
    expect(validateEvent(correction({ photoCount: 5 }), ctx)).toEqual({ ok: true });
    rejected(correction({ photoCount: 6 }), 'invalid-event');
    rejected(correction({ photoCount: 0 }), 'invalid-event');
    rejected(correction({ photoCount: 2.5 }), 'invalid-event');
    // The identification report of an observation carries its fused answer's photo count too.
    expect(validateEvent(identification({ photoCount: 3 }), ctx)).toEqual({ ok: true });
    rejected(identification({ photoCount: 6 }), 'invalid-event');
  });
  it('wants exactly one of taxonId and proposedName, and proposals only as corrections', () => {
    rejected(correction({ taxonId: 'zebra', proposedName: 'Quagga' }), 'taxon-xor-proposed');
    rejected(correction({ taxonId: undefined }), 'taxon-xor-proposed');
    rejected(correction({ taxonId: undefined, verdict: 'confirmed', proposedName: 'Quagga' }), 'proposed-needs-corrected');
    rejected(correction({ taxonId: undefined, proposedName: '   ' }), 'invalid-event');
    rejected(correction({ taxonId: undefined, proposedName: 'x'.repeat(121) }), 'invalid-event');
    expect(rejected(correction({ taxonId: 'unicorn' }), 'unknown-taxon')).toMatch(/proposedName/);
    rejected(correction({ correctsEventId: ID_B }), 'corrects-itself');
  });
  it("wants a finite embedding of the model version's length", () => {
    const withNull = correction();
    (withNull.embedding as unknown[])[17] = null; // what JSON.stringify makes of NaN
    expect(rejected(withNull, 'embedding-not-finite')).toMatch(/embedding\[17\] is null/);
    const withString = correction();
    (withString.embedding as unknown[])[3] = 'NaN';
    expect(rejected(withString, 'embedding-not-finite')).toMatch(/"NaN"/);
    const withNaN = correction();
    withNaN.embedding[0] = Number.NaN;
    rejected(withNaN, 'embedding-not-finite');
    expect(rejected(correction({ embedding: new Array(1024).fill(0) }), 'embedding-length')).toMatch(/1024 values; model 1\.0\.0 produces 1280/);
    rejected(correction({ embedding: [] }), 'invalid-event');
  });
  it("checks a correction's pack: a listed pack version, and a finite embedding of that pack's length", () => {
    const pack = { id: 'inat-birds', version: '1.0.0', embedding: new Array(1280).fill(0.25) };
    expect(validateEvent(correction({ pack }), ctx)).toEqual({ ok: true });
    expect(rejected(correction({ pack: { ...pack, version: '1.0.1' } }), 'unknown-pack')).toMatch(/inat-birds 1\.0\.1 is unknown \(known: inat-birds@1\.0\.0\)/);
    rejected(correction({ pack: { ...pack, id: 'inat-fish' } }), 'unknown-pack');
    expect(rejected(correction({ pack: { ...pack, embedding: new Array(1024).fill(0) } }), 'pack-embedding-length')).toMatch(/1024 values; pack inat-birds 1\.0\.0 produces 1280/);
    const withNull = correction({ pack: { ...pack, embedding: pack.embedding.slice() } });
    (withNull.pack!.embedding as unknown[])[5] = null;
    expect(rejected(withNull, 'pack-embedding-not-finite')).toMatch(/pack\.embedding\[5\] is null/);
    rejected(correction({ pack: { ...pack, embedding: [] } }), 'invalid-event');
    // A server that knows no packs (an older registry) refuses every pack correction rather than storing what it cannot check.
    rejected(correction({ pack }), 'unknown-pack', { ...ctx, packEmbeddingSizes: undefined });
  });
  it("checks that an identification's pack is one the registry lists, so a made-up pack version opens no series of its own", () => {
    const pack = { id: 'inat-birds', version: '1.0.0', routedBy: 'rollup' as const, top5: [{ taxonId: 'lynx', p: 0.9 }] };
    expect(validateEvent(identification({ pack }), ctx)).toEqual({ ok: true });
    expect(rejected(identification({ pack: { ...pack, version: '9.9.9' } }), 'unknown-pack')).toMatch(/inat-birds 9\.9\.9 is unknown/);
    rejected(identification({ pack: { ...pack, id: 'inat-fish' } }), 'unknown-pack');
  });
  it("checks a photo's shape by the schema and its bytes by core/photo-share.ts, passing on its reason", () => {
    const clean = { mimeType: 'image/jpeg' as const, dataBase64: b64(jpeg(640, 480)), width: 640, height: 480 };
    expect(validateEvent(correction({ photo: clean }), ctx)).toEqual({ ok: true });
    expect(rejected(correction({ photo: { ...clean, dataBase64: b64(jpeg(640, 480, 'Exif')) } }), 'photo-exif')).toMatch(/Exif/);
    rejected(correction({ photo: { ...clean, width: 1024 } }), 'photo-dimensions');
    rejected(correction({ photo: { ...clean, dataBase64: 'not base64!' } }), 'photo-invalid');
    rejected(correction({ photo: { ...clean, width: 2048, height: 1536, dataBase64: b64(jpeg(2048, 1536)) } }), 'invalid-event');
    rejected(correction({ photo: { ...clean, mimeType: 'image/png' as never } }), 'invalid-event');
  });
  it('accepts locations on the 0.2-degree grid only', () => {
    expect(validateEvent(correction({ location: roundToCell(48.8566, 2.3522) }), ctx)).toEqual({ ok: true });
    expect(validateEvent(correction({ location: { lat: 0.6000000000000001, lon: -180 } }), ctx)).toEqual({ ok: true });
    expect(rejected(correction({ location: { lat: 48.8566, lon: 2.4 } }), 'location-off-grid')).toMatch(/roundToCell/);
    rejected(correction({ location: { lat: 48.8, lon: 2.35 } }), 'location-off-grid');
    rejected(correction({ location: { lat: 91, lon: 0 } }), 'invalid-event');
  });
});

describe('validateEvent: model_status', () => {
  const status = (over: Record<string, unknown> = {}) => ({
    type: 'model_status',
    eventId: ID_B,
    installId: INSTALL,
    modelVersion: '1.0.0',
    outcome: 'failed-to-start',
    reason: 'session-create',
    appVersion: '0.1.0',
    hour: '2026-11-26T12:00:00.000Z',
    ...over,
  });
  it('accepts each outcome, a count only with run failures', () => {
    for (const outcome of ['loaded', 'refused-incompatible', 'refused-integrity', 'failed-to-start']) expect(validateEvent(status({ outcome }), ctx)).toEqual({ ok: true });
    expect(validateEvent(status({ outcome: 'run-failures', count: 4 }), ctx)).toEqual({ ok: true });
    expect(validateEvent(status({ outcome: 'run-failures' }), ctx)).toMatchObject({ ok: false, reason: 'invalid-event' });
    expect(validateEvent(status({ count: 2 }), ctx)).toMatchObject({ ok: false, reason: 'invalid-event' });
  });
  it('takes a reason code, never free text, and knows the model versions', () => {
    expect(validateEvent(status({ reason: 'Failed to load /home/me/model.onnx' }), ctx)).toMatchObject({ ok: false, reason: 'invalid-event' });
    expect(validateEvent(status({ outcome: 'exploded' }), ctx)).toMatchObject({ ok: false, reason: 'invalid-event' });
    expect(validateEvent(status({ modelVersion: '7.0.0' }), ctx)).toMatchObject({ ok: false, reason: 'unknown-model-version' });
    expect(validateEvent(status({ extra: 1 }), ctx)).toMatchObject({ ok: false, reason: 'invalid-event' });
  });
  it('sits in a batch beside the older event types, which stay valid as they were', () => {
    for (const e of [identification(), correction(), status()]) expect(Value.Check(TelemetryEventSchema, e)).toBe(true);
    expect(Value.Check(EventEnvelopeSchema, { events: [identification(), correction(), status()] })).toBe(true);
    expect(validateEvent(identification(), ctx)).toEqual({ ok: true });
  });
});

describe('helpers', () => {
  it('caps a batch at MAX_BATCH_EVENTS events', () => {
    expect(Value.Check(EventEnvelopeSchema, { events: [identification()] })).toBe(true);
    expect(Value.Check(EventEnvelopeSchema, { events: [] })).toBe(false);
    expect(Value.Check(EventEnvelopeSchema, { events: new Array(MAX_BATCH_EVENTS + 1).fill(identification()) })).toBe(false);
  });
});
