import { describe, expect, it } from 'vitest';
import { FramePump } from './frame-pump.ts';

/** A classify call the test finishes by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('FramePump', () => {
  it('drops frames offered while one is in flight instead of queueing them', async () => {
    const calls: Array<ReturnType<typeof deferred<string>>> = [];
    const results: string[] = [];
    let frame = 0;
    const pump = new FramePump<number, string>({
      grab: () => ++frame,
      classify: (f) => {
        const d = deferred<string>();
        calls.push(d);
        return d.promise.then((r) => `${f}:${r}`);
      },
      onResult: (r) => results.push(r),
    });
    expect(pump.offer()).toBe(true);
    await tick();
    for (let i = 0; i < 5; i++) expect(pump.offer()).toBe(false);
    expect(calls).toHaveLength(1);
    calls[0].resolve('a');
    await tick();
    expect(results).toEqual(['1:a']);
    // The next offer grabs the camera's frame at that moment, not one of the dropped ones.
    expect(pump.offer()).toBe(true);
    await tick();
    calls[1].resolve('b');
    await tick();
    expect(results).toEqual(['1:a', '2:b']);
    expect(pump.stats).toEqual({ offered: 7, dropped: 5, done: 2, failed: 0, maxInFlight: 1 });
  });

  it('goes on after a failed frame, reporting the error', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const pump = new FramePump<number, number>({
      grab: () => 1,
      classify: async () => {
        if (n++ === 0) throw new Error('boom');
        return 7;
      },
      onResult: () => {},
      onError: (e) => errors.push(e),
    });
    pump.offer();
    await tick();
    expect(pump.offer()).toBe(true);
    await tick();
    expect(errors).toHaveLength(1);
    expect(pump.stats.failed).toBe(1);
    expect(pump.stats.done).toBe(1);
  });

  it('takes no frame without one to grab, and delivers nothing once stopped', async () => {
    const results: number[] = [];
    const d = deferred<number>();
    let have = false;
    const pump = new FramePump<number, number>({ grab: () => (have ? 1 : null), classify: () => d.promise, onResult: (r) => results.push(r) });
    pump.offer();
    await tick();
    expect(pump.busy).toBe(false);
    have = true;
    pump.offer();
    await tick();
    pump.stop();
    d.resolve(3);
    await tick();
    expect(results).toEqual([]);
    expect(pump.offer()).toBe(false);
  });
});
