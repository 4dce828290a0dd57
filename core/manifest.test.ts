import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findVersion, labelsText, validateManifest, type Manifest } from './manifest.ts';
import { IMAGENET_INPUT } from './preprocess.ts';
import type { Taxonomy } from './taxonomy.ts';

const readJson = (rel: string) => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
const REAL: Manifest = readJson('../models/registry/manifest.json');
const TAXONOMY: Taxonomy = readJson('../models/taxonomy.json');

/** A deep copy of the real manifest to break in one place. */
const copy = (): Manifest => structuredClone(REAL);
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('validateManifest', () => {
  it('accepts the real models/registry/manifest.json and returns it', () => {
    expect(validateManifest(REAL)).toBe(REAL);
  });

  it('rejects non-objects without crashing', () => {
    for (const bad of [null, undefined, 42, 'manifest', []]) {
      expect(() => validateManifest(bad), String(bad)).toThrow(/^invalid model manifest: /);
    }
  });

  it('rejects a missing field, naming where it is missing', () => {
    const m = copy() as unknown as { versions: Array<Record<string, unknown>> };
    delete m.versions[0].sha256;
    expect(() => validateManifest(m)).toThrow(/invalid model manifest: .*\/versions\/0\/sha256/);

    const n = copy() as unknown as Record<string, unknown>;
    delete n.active;
    expect(() => validateManifest(n)).toThrow(/\/active/);
  });

  it('rejects a bad sha256 (short, uppercase, non-hex)', () => {
    for (const bad of ['abc123', 'A'.repeat(64), 'g'.repeat(64), `${'0'.repeat(64)}0`]) {
      const m = copy();
      m.versions[0].sha256 = bad;
      expect(() => validateManifest(m), bad).toThrow(/invalid model manifest: .*sha256/);
    }
    const base = copy();
    base.versions[1].base.sha256 = 'not-a-hash';
    expect(() => validateManifest(base)).toThrow(/\/versions\/1\/base\/sha256/);
    const labels = copy();
    labels.versions[0].labelsSha256 = '';
    expect(() => validateManifest(labels)).toThrow(/labelsSha256/);
  });

  it('rejects a version that is not semver x.y.z', () => {
    for (const bad of ['1.0', 'v1.0.0', '1.0.0-beta', '1.0.0.0', '']) {
      const m = copy();
      m.versions[0].version = bad;
      expect(() => validateManifest(m), bad).toThrow(/\/versions\/0\/version/);
    }
    const m = copy();
    m.active = 'latest';
    expect(() => validateManifest(m)).toThrow(/\/active/);
  });

  it('rejects a version listed twice', () => {
    const m = copy();
    m.versions[1].version = m.versions[0].version;
    expect(() => validateManifest(m)).toThrow(`version ${m.versions[0].version} is listed twice`);
  });

  it('rejects duplicate labels', () => {
    const m = copy();
    m.versions[0].labels[1] = m.versions[0].labels[0];
    expect(() => validateManifest(m)).toThrow(`version ${m.versions[0].version} has duplicate labels`);
  });

  it('rejects labels without "other"', () => {
    const m = copy();
    m.versions[1].labels = m.versions[1].labels.filter((l) => l !== 'other');
    expect(() => validateManifest(m)).toThrow(`version ${m.versions[1].version} has no "other" label`);
  });

  it('rejects an active version that is not in the list', () => {
    const m = copy();
    m.active = '9.9.9';
    expect(() => validateManifest(m)).toThrow('active version 9.9.9 is not in the manifest');
  });

  it('reports every semantic problem at once', () => {
    const m = copy();
    m.versions[0].labels = ['a', 'a', 'b'];
    m.active = '7.0.0';
    const message = (() => {
      try {
        validateManifest(m);
      } catch (e) {
        return (e as Error).message;
      }
      return 'did not throw';
    })();
    expect(message).toContain('has duplicate labels');
    expect(message).toContain('has no "other" label');
    expect(message).toContain('active version 7.0.0 is not in the manifest');
  });

  it('rejects schema violations in nested fields', () => {
    const cases: Array<[string, (m: Manifest) => void]> = [
      [
        'schemaVersion 2',
        (m) => {
          (m as { schemaVersion: number }).schemaVersion = 2;
        },
      ],
      [
        'no versions',
        (m) => {
          m.versions = [];
        },
      ],
      [
        'std of 0',
        (m) => {
          m.versions[0].input.std = [0.229, 0, 0.225];
        },
      ],
      [
        'mean of two',
        (m) => {
          (m.versions[0].input as { mean: number[] }).mean = [0.4, 0.4];
        },
      ],
      [
        'layout NHWC',
        (m) => {
          (m.versions[0].input as { layout: string }).layout = 'NHWC';
        },
      ],
      [
        'fractional size',
        (m) => {
          m.versions[0].input.size = 224.5;
        },
      ],
      [
        'maxBatch 0',
        (m) => {
          m.versions[0].input.maxBatch = 0;
        },
      ],
      [
        'threshold above 1',
        (m) => {
          m.versions[0].abstainThreshold = 1.5;
        },
      ],
      [
        'threshold below 0',
        (m) => {
          m.versions[0].abstainThreshold = -0.1;
        },
      ],
      [
        'one label',
        (m) => {
          m.versions[0].labels = ['other'];
        },
      ],
      [
        'bytes 0',
        (m) => {
          m.versions[0].bytes = 0;
        },
      ],
      [
        'createdAt not ISO',
        (m) => {
          m.versions[0].createdAt = 'yesterday';
        },
      ],
    ];
    for (const [what, breakIt] of cases) {
      const m = copy();
      breakIt(m);
      expect(() => validateManifest(m), what).toThrow(/^invalid model manifest: /);
    }
  });
});

describe('findVersion', () => {
  // A hand-made manifest: two copies of a real version under new numbers.
  const hand: Manifest = {
    schemaVersion: 1,
    active: '2.1.0',
    versions: [
      { ...structuredClone(REAL.versions[0]), version: '2.0.0' },
      { ...structuredClone(REAL.versions[0]), version: '2.1.0' },
    ],
  };

  it('returns the active version by default', () => {
    expect(() => validateManifest(hand)).not.toThrow();
    expect(findVersion(hand).version).toBe('2.1.0');
    expect(findVersion(hand)).toBe(hand.versions[1]);
  });

  it('returns a version asked for by number', () => {
    expect(findVersion(hand, '2.0.0')).toBe(hand.versions[0]);
  });

  it('names the versions it has when asked for an unknown one', () => {
    expect(() => findVersion(hand, '3.0.0')).toThrow('model version 3.0.0 is not in the registry (have: 2.0.0, 2.1.0)');
  });

  it('finds the real active version', () => {
    expect(findVersion(REAL).version).toBe(REAL.active);
  });
});

describe('labelsText and the real manifest contents', () => {
  it('joins labels one a line without a trailing newline', () => {
    expect(labelsText(['a', 'b', 'c'])).toBe('a\nb\nc');
    expect(labelsText([])).toBe('');
  });

  it('labelsSha256 of every real version is the sha256 of its labelsText', () => {
    for (const v of REAL.versions) expect(v.labelsSha256, v.version).toBe(sha256(labelsText(v.labels)));
  });

  it('every real version labels the 100 launch taxa in taxonomy order, then "other"', () => {
    const ids = TAXONOMY.taxa.map((t) => t.id);
    for (const v of REAL.versions) {
      expect(v.labels, v.version).toHaveLength(101);
      expect(v.labels.slice(0, 100), v.version).toEqual(ids);
      expect(v.labels[100], v.version).toBe('other');
      expect(v.taxonomyVersion, v.version).toBe(TAXONOMY.version);
    }
  });

  it('every real version is fed the way core/preprocess feeds ImageNet models', () => {
    for (const v of REAL.versions) {
      expect(v.input.size).toBe(IMAGENET_INPUT.size);
      expect(v.input.resizeShorter).toBe(IMAGENET_INPUT.resizeShorter);
      expect(v.input.mean).toEqual(IMAGENET_INPUT.mean);
      expect(v.input.std).toEqual(IMAGENET_INPUT.std);
      expect(v.input.scale).toBeCloseTo(1 / 255, 12);
    }
  });
});
