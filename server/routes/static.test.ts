/**
 * Compressed delivery of static files on a real server over real files in
 * temporary folders: which encoding goes out, Vary, ETags per encoding and
 * 304s, Range over the identity bytes, formats left alone, the registry's
 * model copies written lazily (and a stale one never sent), and the
 * manifest compressed on request as it changes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { startApp, type RunningApp } from '../testing/http.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';
import { precompressTree } from '../../node/precompress.ts';
import { decodeBody, rawGet } from '../../node/raw-get.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Text that compresses well, different for each seed. */
const text = (seed: string, n: number) => Array.from({ length: n }, (_, i) => `${seed} line ${i} of a static file\n`).join('');

describe('static files go out compressed', () => {
  let db: TestDb;
  let server: RunningApp;
  let dist: string;
  let registry: string;
  const js = Buffer.from(text('js', 4000));

  beforeAll(async () => {
    dist = mkdtempSync(path.join(tmpdir(), 'wildsight-dist-'));
    registry = mkdtempSync(path.join(tmpdir(), 'wildsight-registry-'));
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'index.html'), `<!doctype html><title>Wildsight</title>${text('html', 50)}`);
    writeFileSync(path.join(dist, 'assets', 'app.js'), js);
    writeFileSync(path.join(dist, 'noise.bin'), randomBytes(50_000));
    writeFileSync(path.join(dist, 'icon.png'), Buffer.from(text('png', 100)));
    await precompressTree(dist, { cacheDir: null });
    cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(registry, 'manifest.json'));
    mkdirSync(path.join(registry, '1.0.0'));
    writeFileSync(path.join(registry, '1.0.0', 'model.onnx'), text('model', 5000));
    db = await BACKENDS[0].create();
    server = await startApp({ ...db.appOptions, distDir: dist, registryDir: registry, rolloutGuard: { intervalMs: 0 } });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
    rmSync(dist, { recursive: true, force: true });
    rmSync(registry, { recursive: true, force: true });
  });

  const get = (p: string, headers: Record<string, string> = {}) => rawGet(server.url + p, headers);

  it('sends brotli when accepted, else gzip, else the file, always with Vary: Accept-Encoding', async () => {
    const br = await get('/assets/app.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.body.equals(readFileSync(path.join(dist, 'assets', 'app.js.br')))).toBe(true);
    expect(decodeBody(br).equals(js)).toBe(true);
    const gz = await get('/assets/app.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(decodeBody(gz).equals(js)).toBe(true);
    const refused = await get('/assets/app.js', { 'accept-encoding': 'br;q=0, gzip' });
    expect(refused.headers['content-encoding']).toBe('gzip');
    const plain = await get('/assets/app.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(js)).toBe(true);
    for (const res of [br, gz, plain]) expect(String(res.headers.vary)).toMatch(/accept-encoding/i);
  });

  it('leaves alone what compression would not shrink: PNGs, random bytes', async () => {
    for (const p of ['/icon.png', '/noise.bin']) {
      const res = await get(p, { 'accept-encoding': 'br, gzip' });
      expect(res.headers['content-encoding'], p).toBeUndefined();
      expect(res.body.equals(readFileSync(path.join(dist, p)))).toBe(true);
    }
  });

  it('gives each encoding its own ETag and answers If-None-Match with 304 only for the same encoding', async () => {
    const tags = new Map<string, string>();
    for (const ae of ['br', 'gzip', 'identity']) tags.set(ae, String((await get('/assets/app.js', { 'accept-encoding': ae })).headers.etag));
    expect(new Set(tags.values()).size).toBe(3);
    const again = await get('/assets/app.js', { 'accept-encoding': 'br', 'if-none-match': tags.get('br')! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // A client that cached the brotli copy but now only takes gzip must get the gzip bytes, not a 304.
    const other = await get('/assets/app.js', { 'accept-encoding': 'gzip', 'if-none-match': tags.get('br')! });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('gzip');
  });

  it('answers a Range request with the identity bytes (206), whatever the client accepts', async () => {
    const res = await get('/assets/app.js', { 'accept-encoding': 'br, gzip', range: 'bytes=100-199' });
    expect(res.status).toBe(206);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-range']).toBe(`bytes 100-199/${js.length}`);
    expect(res.body.equals(js.subarray(100, 200))).toBe(true);
    const plainTag = (await get('/assets/app.js')).headers.etag!;
    expect(res.headers.etag).toBe(plainTag);
  });

  it('compresses the app shell sent for client-side routes', async () => {
    const res = await get('/history/42', { accept: 'text/html', 'accept-encoding': 'br' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(decodeBody(res).toString()).toMatch(/<title>Wildsight/);
  });

  it('writes a model file its copies once, on first request, and never sends a stale copy', async () => {
    const model = path.join(registry, '1.0.0', 'model.onnx');
    const first = await get('/models/registry/1.0.0/model.onnx', { 'accept-encoding': 'br' });
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBeUndefined();
    expect(first.body.equals(readFileSync(model))).toBe(true);
    const compressed = await until(async () => {
      const res = await get('/models/registry/1.0.0/model.onnx', { 'accept-encoding': 'br' });
      return res.headers['content-encoding'] === 'br' ? res : null;
    });
    expect(sha256(decodeBody(compressed))).toBe(sha256(readFileSync(model)));
    expect(compressed.body.length).toBeLessThan(readFileSync(model).length);

    // New bytes under the same name (a rebuild): the old copy must not be sent for them.
    const replaced = Buffer.from(text('retrained', 5000));
    writeFileSync(model, replaced);
    utimesSync(model, new Date(), new Date(Date.now() + 5000));
    const after = await get('/models/registry/1.0.0/model.onnx', { 'accept-encoding': 'br' });
    expect(sha256(decodeBody(after))).toBe(sha256(replaced));
    const recompressed = await until(async () => {
      const res = await get('/models/registry/1.0.0/model.onnx', { 'accept-encoding': 'br' });
      return res.headers['content-encoding'] === 'br' ? res : null;
    });
    expect(sha256(decodeBody(recompressed))).toBe(sha256(replaced));
  });

  it("sends a version's head pack like its model file: plain first, then its compressed copy", async () => {
    const pack = path.join(registry, '1.1.0', 'head-pack.bin');
    mkdirSync(path.dirname(pack), { recursive: true });
    writeFileSync(pack, text('head pack', 3000));
    const first = await get('/models/registry/1.1.0/head-pack.bin', { 'accept-encoding': 'br' });
    expect(first.status).toBe(200);
    expect(first.body.equals(readFileSync(pack))).toBe(true);
    const compressed = await until(async () => {
      const res = await get('/models/registry/1.1.0/head-pack.bin', { 'accept-encoding': 'br' });
      return res.headers['content-encoding'] === 'br' ? res : null;
    });
    expect(sha256(decodeBody(compressed))).toBe(sha256(readFileSync(pack)));
  });

  it("serves a version's occurrence table (the location prior) as JSON, and 404 for a version without one", async () => {
    const table = { cellDeg: 0.2, minInstalls: 5, cells: Object.fromEntries(Array.from({ length: 12 }, (_, m) => [`48.8,2.4,${m + 1}`, { zebra: 6, 'red-fox': 9 }])) };
    writeFileSync(path.join(registry, '1.0.0', 'occurrence.json'), JSON.stringify(table) + '\n');
    const res = await get('/models/registry/1.0.0/occurrence.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(JSON.parse(decodeBody(res).toString())).toEqual(table);
    expect((await get('/models/registry/1.1.0/occurrence.json')).status).toBe(404);
    // Its compressed copies, written lazily, go with it: a removed table is never served from a leftover copy.
    for (let i = 0; i < 50 && !(existsSync(path.join(registry, '1.0.0', 'occurrence.json.br')) && existsSync(path.join(registry, '1.0.0', 'occurrence.json.gz'))); i++) {
      await get('/models/registry/1.0.0/occurrence.json', { 'accept-encoding': 'br' });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(path.join(registry, '1.0.0', 'occurrence.json.br'))).toBe(true);
    rmSync(path.join(registry, '1.0.0', 'occurrence.json'));
    expect((await get('/models/registry/1.0.0/occurrence.json', { 'accept-encoding': 'br' })).status).toBe(404);
    expect((await get('/models/registry/1.0.0/occurrence.json', { 'accept-encoding': 'gzip' })).status).toBe(404);
  });

  it('keeps other registry paths closed, compressed copies included', async () => {
    expect((await get('/models/registry/1.0.0/model.onnx.br', { 'accept-encoding': 'br' })).status).toBe(404);
    expect((await get('/models/registry/1.1.0/head-pack.bin.br', { 'accept-encoding': 'br' })).status).toBe(404);
    expect((await get('/models/registry/1.1.0/other.bin')).status).toBe(404);
    expect((await get('/models/registry/manifest.json.br')).status).toBe(404);
  });

  it('compresses the registry manifest on request, follows its changes, and gives 304 per encoding', async () => {
    const file = path.join(registry, 'manifest.json');
    const res = await get('/models/registry/manifest.json', { 'accept-encoding': 'br' });
    expect(res.headers['content-encoding']).toBe('br');
    expect(String(res.headers.vary)).toMatch(/accept-encoding/i);
    expect(decodeBody(res).equals(readFileSync(file))).toBe(true);
    const plain = await get('/models/registry/manifest.json');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.etag).not.toBe(res.headers.etag);
    expect((await get('/models/registry/manifest.json', { 'accept-encoding': 'br', 'if-none-match': res.headers.etag! })).status).toBe(304);
    expect((await get('/models/registry/manifest.json', { 'if-none-match': res.headers.etag! })).status).toBe(200);

    const changed = JSON.parse(readFileSync(file, 'utf8'));
    changed.note = 'changed while running';
    writeFileSync(file, JSON.stringify(changed, null, 2));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const after = await get('/models/registry/manifest.json', { 'accept-encoding': 'br', 'if-none-match': res.headers.etag! });
    expect(after.status).toBe(200);
    expect(JSON.parse(decodeBody(after).toString()).note).toBe('changed while running');
  });

  it('compresses the taxonomy', async () => {
    const res = await get('/models/taxonomy.json', { 'accept-encoding': 'gzip' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(decodeBody(res).toString()).taxa.length).toBeGreaterThan(0);
  });
});

async function until<T>(probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
