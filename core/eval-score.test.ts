import { describe, expect, it } from 'vitest';
import { scorePhoto, summarize, type ScoredPhoto } from './eval-score.ts';

const photo = (file: string, label: string, top5: string[], abstain: boolean, ms: number): ScoredPhoto => ({
  file,
  label,
  top5,
  probabilities: top5.map(() => 0.2),
  abstain,
  ms,
});

describe('summarize', () => {
  const photos: ScoredPhoto[] = [
    // launch, named right: top1 hit, top5 hit
    photo('a.jpg', 'ladybug', ['ladybug', 'weevil', 'tiger-beetle', 'ant', 'bee'], false, 10),
    // launch, right taxon first but the app abstained: top1 miss (the user saw no answer), top5 hit
    photo('b.jpg', 'tiger-beetle', ['tiger-beetle', 'ladybug', 'weevil', 'ant', 'bee'], true, 40),
    // launch, not in the top 5 at all: both miss
    photo('c.jpg', 'ostrich', ['golden-eagle', 'bald-eagle', 'jay', 'kite', 'junco'], false, 30),
    // launch, second suggestion: top1 miss, top5 hit
    photo('d.jpg', 'weevil', ['ladybug', 'weevil', 'ant', 'bee', 'fly'], false, 25),
    // other photo, app abstained: correct
    photo('e.jpg', 'other', ['ladybug', 'weevil', 'ant', 'bee', 'fly'], true, 20.5),
    // other photo, app named a launch taxon: wrong
    photo('f.jpg', 'other', ['junco', 'jay', 'kite', 'ostrich', 'fly'], false, 50),
  ];

  it('scores a hand-made list (worked by hand)', () => {
    // launch photos a-d: top1 1/4 = 0.25; top5 3/4 = 0.75
    // other photos e-f: declined 1/2 = 0.5
    // abstained b and e: 2/6 = 0.3333 (rounded to 4 places)
    // ms sorted [10, 20.5, 25, 30, 40, 50]: median (25 + 30) / 2 = 27.5
    expect(summarize(photos)).toEqual({
      n: 6,
      top1: 0.25,
      top5: 0.75,
      other_accuracy: 0.5,
      abstain_rate: 0.3333,
      median_ms: 27.5,
      n_launch: 4,
      n_other: 2,
    });
  });

  it('counts an abstained launch photo as a top-1 miss but a top-5 hit', () => {
    const s = summarize([photos[1]]);
    expect(s.top1).toBe(0);
    expect(s.top5).toBe(1);
    expect(s.abstain_rate).toBe(1);
  });

  it('counts an other photo correct only when the app abstained', () => {
    expect(summarize([photos[4]]).other_accuracy).toBe(1);
    expect(summarize([photos[5]]).other_accuracy).toBe(0);
    // other photos never count towards top1/top5
    expect(summarize([photos[4], photos[5]])).toMatchObject({ top1: 0, top5: 0, n_launch: 0, n_other: 2 });
  });

  it('rounds rates to 4 places and milliseconds to 2', () => {
    // 1 of 3 launch photos right -> 0.3333; 2 of 3 in the top 5 -> 0.6667; ms median 12.3456 -> 12.35
    const s = summarize([photo('a', 'x', ['x'], false, 12.3456), photo('b', 'y', ['z', 'y'], false, 1), photo('c', 'w', ['z'], false, 99)]);
    expect(s.top1).toBe(0.3333);
    expect(s.top5).toBe(0.6667);
    expect(s.median_ms).toBe(12.35);
  });

  it('gives zeros (and a NaN median) for no photos', () => {
    const s = summarize([]);
    expect(s).toMatchObject({ n: 0, top1: 0, top5: 0, other_accuracy: 0, abstain_rate: 0, n_launch: 0, n_other: 0 });
    expect(s.median_ms).toBeNaN();
  });
});

describe('scorePhoto', () => {
  it('keeps the suggestions in order with their probabilities, and the abstention', () => {
    const prediction = {
      top5: [
        { taxonId: 'jay', probability: 0.6 },
        { taxonId: 'junco', probability: 0.3 },
      ],
      abstain: true,
    };
    expect(scorePhoto('a.jpg', 'jay', prediction, 12.5)).toEqual({ file: 'a.jpg', label: 'jay', top5: ['jay', 'junco'], probabilities: [0.6, 0.3], abstain: true, ms: 12.5 });
  });
});
