import { describe, expect, it } from 'vitest';
import { modelReasonCode } from './model-health.ts';
import { ModelStatusEventSchema } from './telemetry.ts';
import { Value } from '@sinclair/typebox/value';

describe('modelReasonCode', () => {
  it("turns the app's refusal sentences into codes", () => {
    expect(modelReasonCode('2 of its labels cannot be named from the taxonomy or its extra taxa (unicorn)')).toBe('labels-unnamed');
    expect(modelReasonCode('its labels do not match their labelsSha256 (abc…, expected def…)')).toBe('labels-sha256');
    expect(modelReasonCode('model 1.1.0 failed its integrity check (sha256 abc, expected def)')).toBe('sha256-mismatch');
    expect(modelReasonCode('the head pack of model 1.1.0 failed its integrity check (sha256 abc, expected def)')).toBe('head-pack-damaged');
    expect(modelReasonCode("it could not be started: Can't create a session. failed to load model")).toBe('session-create');
    expect(modelReasonCode('its input is NHWC/RGB/center crop; this app feeds NCHW/RGB centre crops')).toBe('input');
    expect(modelReasonCode('something nobody expected')).toBe('other');
  });
  it('every code fits the event schema', () => {
    const event = {
      type: 'model_status',
      eventId: crypto.randomUUID(),
      installId: crypto.randomUUID(),
      modelVersion: '1.0.0',
      outcome: 'failed-to-start',
      appVersion: '0.1.0',
      hour: '2026-11-29T17:00:00.000Z',
    };
    expect(Value.Check(ModelStatusEventSchema, { ...event, reason: modelReasonCode('it could not be started') })).toBe(true);
    expect(Value.Check(ModelStatusEventSchema, { ...event, reason: 'Not A Code' })).toBe(false);
  });
});
