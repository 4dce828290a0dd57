import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findClones, MIN_LINES } from './duplicates.ts';

const root = path.join(import.meta.dirname, '..');

describe('no block of six or more lines repeated outside tests', () => {
  it('finds none in the repo', () => {
    const clones = findClones(root).map((c) => `${c.first} repeats as ${c.second} (${c.lines} lines)`);
    expect(clones, 'extract a shared helper for each').toEqual([]);
  });

  describe('on a planted copy', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-dup-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** A function long enough to count, its body varied by `name` only in the identifier jscpd must still match. */
    const block = (name: string) =>
      [
        `export function ${name}(values: number[], weights: number[]): number {`,
        '  let total = 0;',
        '  let weight = 0;',
        '  for (let i = 0; i < values.length; i++) {',
        '    total += values[i] * weights[i];',
        '    weight += weights[i];',
        '  }',
        '  if (weight === 0) throw new RangeError("weights sum to zero");',
        '  return total / weight;',
        '}',
        '',
      ].join('\n');

    it(`reports a ${MIN_LINES}+ line copy in source, with both places, and ignores one between tests`, () => {
      mkdirSync(path.join(dir, 'core'));
      writeFileSync(path.join(dir, 'core', 'a.ts'), `export const A = 1;\n${block('weightedMean')}`);
      writeFileSync(path.join(dir, 'core', 'b.ts'), `// another module\n${block('weightedMean')}export const B = 2;\n`);
      writeFileSync(path.join(dir, 'core', 'a.test.ts'), block('weightedMean'));
      writeFileSync(path.join(dir, 'core', 'b.test.ts'), block('weightedMean'));
      const clones = findClones(dir);
      expect(clones).toHaveLength(1);
      expect([clones[0].first, clones[0].second].sort()).toEqual([expect.stringMatching(/^core\/a\.ts:2-/), expect.stringMatching(/^core\/b\.ts:2-/)]);
    });
  });
});
