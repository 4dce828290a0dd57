import { describe, expect, it } from 'vitest';
import { chooseAbstainThreshold, scoreThreshold, type AbstainSample } from './abstain.ts';

const launch = (topP: number, correct = true, otherWins = false): AbstainSample => ({ launch: true, correct, otherWins, topP });
const other = (topP: number, otherWins = false): AbstainSample => ({ launch: false, correct: false, otherWins, topP });

describe('scoreThreshold', () => {
  it('abstains strictly below the threshold: topP equal to it is answered', () => {
    expect(scoreThreshold([launch(0.5)], 0.5).launchAccuracy).toBe(1);
    expect(scoreThreshold([launch(0.5)], 0.50001).launchAccuracy).toBe(0);
    expect(scoreThreshold([other(0.5)], 0.5).otherAccuracy).toBe(0);
    expect(scoreThreshold([other(0.5)], 0.50001).otherAccuracy).toBe(1);
  });

  it('counts "other wins" as an abstention whatever the threshold', () => {
    // a launch photo where "other" won is a miss even if it was "correct" otherwise; an other photo where it won is right
    const samples = [launch(0.9, true, true), other(0.9, true)];
    expect(scoreThreshold(samples, 0)).toEqual({ threshold: 0, launchAccuracy: 0, otherAccuracy: 1, balancedAccuracy: 0.5 });
  });

  it('a wrong launch answer is a miss whether or not it abstains', () => {
    expect(scoreThreshold([launch(0.9, false)], 0).launchAccuracy).toBe(0);
    expect(scoreThreshold([launch(0.1, false)], 0.5).launchAccuracy).toBe(0);
  });

  it('balanced accuracy is the mean of the two accuracies (hand-computed)', () => {
    // launch: 0.9 ok, 0.6 ok, 0.3 ok, 0.8 wrong; other: 0.7, 0.2
    // t = 0.5: launch answered right = 0.9, 0.6 -> 2/4; other declined = 0.2 -> 1/2; balanced (0.5 + 0.5)/2 = 0.5
    const samples = [launch(0.9), launch(0.6), launch(0.3), launch(0.8, false), other(0.7), other(0.2)];
    expect(scoreThreshold(samples, 0.5)).toEqual({ threshold: 0.5, launchAccuracy: 0.5, otherAccuracy: 0.5, balancedAccuracy: 0.5 });
  });
});

describe('chooseAbstainThreshold', () => {
  it('finds the best balanced-accuracy threshold (worked by hand)', () => {
    // launch right at 0.9, 0.8, 0.6; launch wrong at 0.4; other at 0.5, 0.3, 0.2
    // t:        0     0.2   0.3    0.4    0.5    0.6    0.8    0.9
    // launch:  3/4   3/4   3/4    3/4    3/4    3/4    2/4    1/4
    // other:   0/3   0/3   1/3    2/3    2/3    3/3    3/3    3/3
    // balanced .375  .375  .5417  .7083  .7083  .875   .75    .625   -> best t = 0.6
    const samples = [launch(0.9), launch(0.8), launch(0.6), launch(0.4, false), other(0.5), other(0.3), other(0.2)];
    const best = chooseAbstainThreshold(samples);
    expect(best.threshold).toBe(0.6);
    expect(best.launchAccuracy).toBe(0.75);
    expect(best.otherAccuracy).toBe(1);
    expect(best.balancedAccuracy).toBeCloseTo(0.875, 12);
  });

  it('picks the lowest threshold on a tie', () => {
    // launch right at 0.9, 0.8; launch wrong at 0.6; other at 0.5, 0.3
    // t = 0.6: launch 2/3, other 2/2 -> 0.8333;  t = 0.8: launch 2/3 (0.6 was wrong anyway), other 2/2 -> 0.8333
    // t = 0.5: other 1/2 -> 0.5833; t = 0.9: launch 1/3 -> 0.6667. The tie 0.6 / 0.8 goes to 0.6.
    const samples = [launch(0.9), launch(0.8), launch(0.6, false), other(0.5), other(0.3)];
    const best = chooseAbstainThreshold(samples);
    expect(best.threshold).toBe(0.6);
    expect(best.balancedAccuracy).toBeCloseTo(5 / 6, 12);
  });

  it('keeps threshold 0 when abstaining more never helps', () => {
    // "other wins" already declines every other photo; any threshold > 0 could only lose launch answers
    const samples = [launch(0.3), launch(0.4), other(0.9, true), other(0.95, true)];
    const best = chooseAbstainThreshold(samples);
    expect(best).toEqual({ threshold: 0, launchAccuracy: 1, otherAccuracy: 1, balancedAccuracy: 1 });
  });

  it('the order of samples does not matter', () => {
    const samples = [launch(0.9), launch(0.8), launch(0.6), launch(0.4, false), other(0.5), other(0.3), other(0.2)];
    expect(chooseAbstainThreshold([...samples].reverse()).threshold).toBe(0.6);
  });

  it('throws without photos of both kinds', () => {
    const message = 'choosing an abstain threshold needs both launch-species and other photos';
    expect(() => chooseAbstainThreshold([])).toThrow(message);
    expect(() => chooseAbstainThreshold([launch(0.9), launch(0.2)])).toThrow(message);
    expect(() => chooseAbstainThreshold([other(0.9), other(0.2)])).toThrow(message);
  });
});
