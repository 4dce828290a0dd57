/** Compressed copies on real files in a temporary folder: only when smaller, mtimes kept, stale copies replaced, the cache reused. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { precompressFile, precompressTree, variantIsFresh } from './precompress.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-precompress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `line ${i}\n`).join(''));

describe('precompress', () => {
  it('writes .br and .gz that decode to the file, with its mtime, when they are smaller', async () => {
    const file = path.join(dir, 'app.js');
    writeFileSync(file, text(2000));
    const r = await precompressFile(file, { cacheDir: null });
    expect(r.variants.map((v) => v.encoding).sort()).toEqual(['br', 'gzip']);
    expect(zlib.brotliDecompressSync(readFileSync(`${file}.br`)).equals(readFileSync(file))).toBe(true);
    expect(zlib.gunzipSync(readFileSync(`${file}.gz`)).equals(readFileSync(file))).toBe(true);
    for (const v of r.variants) expect(v.bytes).toBeLessThan(r.bytes);
    expect(variantIsFresh(file, 'br')).toBe(true);
    expect(Math.abs(statSync(`${file}.gz`).mtimeMs - statSync(file).mtimeMs)).toBeLessThan(1);
    expect(variantIsFresh(file, 'gzip')).toBe(true);
  });

  it("sees every fresh copy as fresh, whatever the fraction of a millisecond in its file's mtime", async () => {
    // Node rounds an mtime to whole milliseconds when it makes a Date, and utimes lands a hair off: about half of all
    // files once got copies that looked stale at once (and the server deleted them).
    const files = Array.from({ length: 40 }, (_, i) => path.join(dir, `many-${i}.txt`));
    for (const f of files) writeFileSync(f, text(300));
    await Promise.all(files.map((f) => precompressFile(f, { cacheDir: null })));
    expect(files.filter((f) => !variantIsFresh(f, 'br') || !variantIsFresh(f, 'gzip'))).toEqual([]);
  });

  it('writes nothing for bytes that do not shrink or formats that are already compressed', async () => {
    writeFileSync(path.join(dir, 'noise.bin'), randomBytes(20_000));
    writeFileSync(path.join(dir, 'photo.png'), text(2000));
    for (const f of ['noise.bin', 'photo.png']) {
      expect((await precompressFile(path.join(dir, f), { cacheDir: null })).variants).toEqual([]);
      expect(existsSync(path.join(dir, `${f}.br`))).toBe(false);
      expect(existsSync(path.join(dir, `${f}.gz`))).toBe(false);
    }
  });

  it('replaces copies of a file that changed, and sees a copy with another mtime as stale', async () => {
    const file = path.join(dir, 'changing.css');
    writeFileSync(file, text(1000));
    await precompressFile(file, { cacheDir: null });
    writeFileSync(file, text(3000));
    const later = new Date(Date.now() + 10_000);
    utimesSync(file, later, later);
    expect(variantIsFresh(file, 'br')).toBe(false);
    await precompressFile(file, { cacheDir: null });
    expect(variantIsFresh(file, 'br')).toBe(true);
    expect(zlib.brotliDecompressSync(readFileSync(`${file}.br`)).equals(text(3000))).toBe(true);
  });

  it('keeps compressed bytes by content in the cache and reuses them', async () => {
    const cacheDir = path.join(dir, 'cache');
    const a = path.join(dir, 'tree', 'a.js');
    mkdirSync(path.dirname(a), { recursive: true });
    writeFileSync(a, text(1500));
    writeFileSync(path.join(dir, 'tree', 'b.html'), text(1500));
    const first = await precompressTree(path.join(dir, 'tree'), { cacheDir });
    expect(first.map((r) => path.basename(r.file))).toEqual(['a.js', 'b.html']);
    // Same bytes in two files: one cache entry per encoding.
    expect(readdirSync(cacheDir).length).toBe(2);
    const again = await precompressTree(path.join(dir, 'tree'), { cacheDir });
    expect(again.map((r) => r.variants.length)).toEqual([2, 2]);
    expect(readdirSync(cacheDir).length).toBe(2);
  });
});
