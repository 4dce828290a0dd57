import { describe, expect, it } from 'vitest';
import { begin, cancel } from './cancel.ts';
import { isWireError, toWire, WorkerError } from './errors.ts';

describe('cancellation tokens', () => {
  it('a cancel reaches the token of its own call only', () => {
    const a = begin(101);
    const b = begin(102);
    cancel(101);
    expect(a.cancelled).toBe(true);
    expect(b.cancelled).toBe(false);
    expect(() => a.throwIfCancelled()).toThrow(WorkerError);
    expect(
      toWire(
        (() => {
          try {
            a.throwIfCancelled();
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).toEqual({ code: 'aborted', message: 'the call was cancelled' });
    a.end();
    b.end();
  });

  it('a cancel that arrives before its call still cancels it; a call without an id cannot be cancelled', () => {
    cancel(201);
    const t = begin(201);
    expect(t.cancelled).toBe(true);
    t.end();
    const free = begin(undefined);
    expect(free.cancelled).toBe(false);
  });
});

describe('errors across the worker boundary', () => {
  it('keeps a known code, calls anything else internal, and the page recognizes only known codes', () => {
    expect(toWire(new WorkerError('sha256-mismatch', 'bad bytes'))).toEqual({ code: 'sha256-mismatch', message: 'bad bytes' });
    expect(toWire(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(isWireError({ code: 'session-create', message: 'x' })).toBe(true);
    expect(isWireError({ code: 'made-up', message: 'x' })).toBe(false);
    expect(isWireError(new Error('plain'))).toBe(false);
  });
});
