// The README's "Layout" table is the map a newcomer reads first; this keeps
// it true. A row whose folder is gone, a module or subfolder a row names that
// no longer exists, or a folder tracked by git that no row covers fails here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayout, parseLayoutTable } from './readme-layout.ts';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const exists = (path: string) => existsSync(join(root, path));

describe('README layout table', () => {
  it('lists only what exists and every folder git tracks', () => {
    const rows = parseLayoutTable(readme);
    expect(rows.length).toBeGreaterThan(5);
    expect(checkLayout(rows, tracked, exists)).toEqual([]);
  });

  it('names a row whose folder is gone, a missing module, and an unlisted folder', () => {
    const table = [
      '## Layout',
      '',
      '| folder | what lives there |',
      '|---|---|',
      '| `core/` | pure code (`telemetry`, `gone-module`), `api/` wire schemas (`events`, found in core/api/) |',
      '| `old/` | removed long ago |',
      '| `src/` | `inference/` |',
      '',
      '## Next',
    ].join('\n');
    const files = ['core/telemetry.ts', 'core/api/events.ts', 'src/inference/bridge.ts', 'src/admin/Admin.tsx', 'server/index.ts'];
    const dirs = new Set(['core', 'core/api', 'src', 'src/inference', 'src/admin', 'server']);
    const fileExists = (p: string) => files.includes(p) || dirs.has(p.replace(/\/$/, ''));
    expect(checkLayout(parseLayoutTable(table), files, fileExists)).toEqual([
      'row `core/` names `gone-module`, which is no file or folder under core/ nor a path from the root',
      'row `old/`: no such path',
      'folder `server/` (tracked by git) has no row',
      'folder `src/admin/` is not named in the row `src/`',
    ]);
  });

  it('refuses a README without the table', () => {
    expect(() => parseLayoutTable('# Nothing here\n')).toThrow(/Layout/);
  });
});
