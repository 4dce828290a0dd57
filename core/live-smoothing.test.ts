import { describe, expect, it } from 'vitest';
import { DEFAULT_SMOOTHING, initialSmoothing, liveHint, smoothFrame, type FrameProbabilities, type SmoothingOptions } from './live-smoothing.ts';

/** Runs frames through a fresh smoother and returns what was shown after each. */
function run(frames: FrameProbabilities[], opts: SmoothingOptions = DEFAULT_SMOOTHING) {
  const state = initialSmoothing();
  return frames.map((f) => smoothFrame(state, f, opts));
}
/** The distinct answers shown, in order (consecutive repeats and "nothing yet" dropped). */
const shownSequence = (views: Array<{ shown: string | null }>) => views.map((v) => v.shown).filter((s, i, all) => s !== null && s !== all[i - 1]);

const repeat = <T>(x: T, n: number): T[] => Array.from({ length: n }, () => x);

describe('smoothFrame', () => {
  it('shows nothing until the same top-1 held for stableFrames frames, then shows it', () => {
    const views = run(repeat({ lynx: 0.9, other: 0.1 }, 5));
    expect(views.map((v) => v.shown)).toEqual([null, null, 'lynx', 'lynx', 'lynx']);
    expect(views[2].switched).toBe(true);
    expect(views[3].switched).toBe(false);
  });

  it('moves from one animal to the next exactly once, some frames after the scene changed', () => {
    const views = run([...repeat({ lynx: 0.9, jay: 0.05 }, 10), ...repeat({ jay: 0.92, lynx: 0.03 }, 10)]);
    expect(shownSequence(views)).toEqual(['lynx', 'jay']);
    expect(views.filter((v) => v.switched)).toHaveLength(2);
    const switchAt = views.findIndex((v) => v.shown === 'jay');
    expect(switchAt).toBeGreaterThanOrEqual(10 + DEFAULT_SMOOTHING.stableFrames - 1);
    expect(switchAt).toBeLessThan(20);
  });

  it('ignores a single odd frame once settled', () => {
    const frames = [...repeat({ lynx: 0.9 }, 6), { jay: 0.99 }, ...repeat({ lynx: 0.9 }, 4)];
    expect(shownSequence(run(frames))).toEqual(['lynx']);
  });

  it('never settles on frames that disagree with each other', () => {
    const frames = Array.from({ length: 30 }, (_, i) => (i % 2 ? { lynx: 0.6, jay: 0.4 } : { jay: 0.6, lynx: 0.4 }));
    const views = run(frames);
    expect(views.every((v) => v.shown === null && !v.stable)).toBe(true);
  });

  it('needs the margin over the second: a near tie is not shown however long it lasts', () => {
    const views = run(repeat({ lynx: 0.55, jay: 0.45 }, 20));
    expect(views.at(-1)!.margin).toBeCloseTo(0.1, 6);
    expect(views.at(-1)!.shown).toBeNull();
  });

  it('keeps the shown answer while a new one is stable but not yet far enough ahead (hysteresis)', () => {
    // minMargin alone would let b replace a once b leads by 0.2; the switch margin asks 0.5.
    const opts: SmoothingOptions = { alpha: 1, stableFrames: 2, minProbability: 0.5, minMargin: 0.2, switchMargin: 0.5 };
    const views = run([...repeat({ a: 0.9, b: 0.1 }, 3), ...repeat({ b: 0.6, a: 0.35 }, 5), ...repeat({ b: 0.9, a: 0.05 }, 2)], opts);
    expect(views[7].stable).toBe(true);
    expect(views[7].shown).toBe('a');
    expect(views[8].shown).toBe('b');
    expect(shownSequence(views)).toEqual(['a', 'b']);
  });

  it('survives a frame without a given label by decaying it, and forgets labels that faded out', () => {
    const state = initialSmoothing();
    smoothFrame(state, { a: 0.8, b: 0.2 });
    smoothFrame(state, { a: 0.8 });
    expect(state.average.get('b')).toBeCloseTo(0.1, 6);
    for (let i = 0; i < 20; i++) smoothFrame(state, { a: 0.8 });
    expect(state.average.has('b')).toBe(false);
  });

  it('refuses probabilities outside [0, 1] and bad options, with the value in the message', () => {
    expect(() => smoothFrame(initialSmoothing(), { a: 1.5 })).toThrow(/a must be in \[0, 1\], got 1.5/);
    expect(() => smoothFrame(initialSmoothing(), { a: Number.NaN })).toThrow(/got NaN/);
    expect(() => smoothFrame(initialSmoothing(), { a: 0.5 }, { ...DEFAULT_SMOOTHING, alpha: 0 })).toThrow(/alpha/);
    expect(() => smoothFrame(initialSmoothing(), { a: 0.5 }, { ...DEFAULT_SMOOTHING, stableFrames: 1.5 })).toThrow(/stableFrames/);
  });
});

describe('liveHint', () => {
  const unsure = { stable: false, probability: 0.2, leader: 'a', shown: null };
  it('says nothing when the shown answer is the stable one', () => {
    expect(liveHint({ stable: true, probability: 0.9, leader: 'a', shown: 'a' }, 10)).toBeNull();
  });
  it('says "hold steady" for a blurred frame, whatever the model thinks', () => {
    expect(liveHint(unsure, 5)).toBe('hold-steady');
  });
  it('says "move closer" for a sharp frame the model is unsure about', () => {
    expect(liveHint(unsure, 500)).toBe('move-closer');
  });
  it('says "hold steady" for a sharp, fairly confident answer not yet settled', () => {
    expect(liveHint({ ...unsure, probability: 0.7 }, 500)).toBe('hold-steady');
    expect(liveHint({ stable: true, probability: 0.7, leader: 'b', shown: 'a' }, 500)).toBe('hold-steady');
  });
});
