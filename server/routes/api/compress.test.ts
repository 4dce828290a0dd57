/**
 * The JSON API is compressed for clients that accept it, on a real server;
 * precompressed static files are not compressed a second time.
 */
import { get } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../../testing/backends.ts';
import { startApp, type RunningApp } from '../../testing/http.ts';
import { COMPRESS_MIN_BYTES } from './compress.ts';

/** A raw GET: headers and body bytes as sent, nothing decoded (fetch would decode). */
function raw(url: string, acceptEncoding?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('JSON API compression', () => {
  let db: TestDb;
  let server: RunningApp;
  beforeAll(async () => {
    db = await BACKENDS[0].create();
    server = await startApp({ ...db.appOptions });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
  });

  it('sends /v1/models brotli- or gzip-coded as asked, the same JSON as uncompressed', async () => {
    const plain = await raw(`${server.url}/v1/models`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(COMPRESS_MIN_BYTES);
    const json = JSON.parse(plain.body.toString('utf8'));

    const br = await raw(`${server.url}/v1/models`, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);
    expect(JSON.parse(brotliDecompressSync(br.body).toString('utf8'))).toEqual(json);

    const gz = await raw(`${server.url}/v1/models`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.body).toString('utf8'))).toEqual(json);
  });

  it('leaves static files to their own precompressed copies: one coding, not two', async () => {
    const res = await raw(`${server.url}/models/registry/manifest.json`, 'br');
    expect(res.status).toBe(200);
    const coding = res.headers['content-encoding'];
    const body = coding === 'br' ? brotliDecompressSync(res.body) : res.body;
    expect(JSON.parse(body.toString('utf8')).versions.length).toBeGreaterThan(0);
  });
});
