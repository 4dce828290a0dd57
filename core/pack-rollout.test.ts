import { describe, expect, it } from 'vitest';
import { choosePackVersion } from './pack-rollout.ts';
import { inRollout } from './rollout.ts';

const served = [
  { id: 'inat-birds', version: '1.0.0', status: 'active' },
  { id: 'inat-birds', version: '1.0.1', status: 'canary' },
  { id: 'inat-insects', version: '1.0.0', status: 'active' },
];
const rollout = { id: 'r-1', version: '1.0.1', controlVersion: '1.0.0', percent: 30, state: 'running' };
const installs = Array.from({ length: 2000 }, (_, i) => `install-${i}`);

describe('choosePackVersion', () => {
  it('without a rollout: the pack’s active version', () => {
    expect(choosePackVersion('inat-birds', served, null, 'a')).toEqual({ pack: served[0], rolloutId: null, inCanary: false });
    expect(choosePackVersion('inat-insects', served, undefined, 'a')?.pack).toBe(served[2]);
  });

  it('with a running rollout: the canary for devices whose sticky bucket is inside its percent, the control for the rest, the same as the base model’s bucket', () => {
    let canary = 0;
    for (const id of installs) {
      const c = choosePackVersion('inat-birds', served, rollout, id)!;
      expect(c.rolloutId).toBe('r-1');
      expect(c.inCanary).toBe(inRollout(id, 'r-1', 30));
      expect(c.pack.version).toBe(c.inCanary ? '1.0.1' : '1.0.0');
      if (c.inCanary) canary++;
    }
    expect(canary / installs.length).toBeGreaterThan(0.26);
    expect(canary / installs.length).toBeLessThan(0.34);
  });

  it('is sticky: raising the percent only adds devices to the canary, and the same device always gets the same answer', () => {
    for (const id of installs.slice(0, 500)) {
      const at30 = choosePackVersion('inat-birds', served, rollout, id)!;
      expect(choosePackVersion('inat-birds', served, rollout, id)).toEqual(at30);
      const at60 = choosePackVersion('inat-birds', served, { ...rollout, percent: 60 }, id)!;
      if (at30.inCanary) expect(at60.inCanary).toBe(true);
    }
  });

  it('ignores a rollout that is not running or names a version the server does not list', () => {
    expect(choosePackVersion('inat-birds', served, { ...rollout, state: 'rolled_back' }, 'a')?.pack.version).toBe('1.0.0');
    expect(choosePackVersion('inat-birds', served, { ...rollout, version: '9.9.9' }, 'a')?.pack.version).toBe('1.0.0');
  });

  it('null when nothing is runnable: no active version, or a pack the server does not list', () => {
    expect(choosePackVersion('inat-birds', [{ id: 'inat-birds', version: '1.0.1', status: 'candidate' }], null, 'a')).toBeNull();
    expect(choosePackVersion('inat-fish', served, null, 'a')).toBeNull();
  });
});
