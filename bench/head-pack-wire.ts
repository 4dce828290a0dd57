/**
 * bench:wire's head-only update figure (issue 14): the bytes a device on
 * 1.0.0 downloads to move to a retrained version (harness/retrained-version.ts,
 * two heads: see HEADS), by its head pack against the full file, both from a real server over a temporary copy of the registry,
 * as Chromium asks for them. The server writes a retrained version's
 * compressed copies lazily after the first request for it
 * (server/routes/registry-variants.ts), so each file is asked for until it
 * comes compressed (or a minute passes); each decoded body is checked
 * against its file.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { readManifest } from '../node/registry.ts';
import { decodeBody, rawGet } from '../node/raw-get.ts';
import { registerRetrained } from '../harness/retrained-version.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Sent {
  file: string;
  raw: number;
  sent: number;
  encoding: string;
}
export interface HeadOnlyUpdate {
  from: string;
  to: string;
  head: string;
  headPack: Sent;
  fullFile: Sent;
}

/** Two retrained heads: as the launch head exports (int8 weights dequantized), and with every weight at full float precision. */
const HEADS = [
  { version: '1.1.0', head: 'launch head as exported', jitter: 0 },
  { version: '1.2.0', head: 'launch head, weights at full float precision (jitter 1e-3)', jitter: 1e-3 },
];

async function asSent(base: string, registryDir: string, file: string, accept: string): Promise<Sent> {
  const onDisk = readFileSync(path.join(registryDir, file));
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await rawGet(`${base}/models/registry/${file}`, { 'accept-encoding': accept });
    if (res.status !== 200 || sha256(decodeBody(res)) !== sha256(onDisk)) throw new Error(`${file}: status ${res.status} or bytes differ from the file`);
    const encoding = res.headers['content-encoding'] ?? 'identity';
    if (encoding !== 'identity' || Date.now() > until) return { file, raw: onDisk.length, sent: res.body.length, encoding };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * `retrainedRegistry`: measure the versions with a head pack in that registry
 * (e.g. one kept by `npm run pipeline -- scenario new-taxa --keep`: a head
 * really trained), copied first; else the two heads of HEADS.
 */
export async function measureHeadOnlyUpdate(distDir: string, accept: string, retrainedRegistry?: string): Promise<HeadOnlyUpdate[]> {
  const registryDir = mkdtempSync(path.join(tmpdir(), 'wildsight-wire-registry-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-wire-data-'));
  const app = await buildApp({ logger: false, dataDir, distDir, registryDir, rolloutGuard: { intervalMs: 0 } });
  try {
    cpSync(retrainedRegistry ?? REGISTRY_DIR, registryDir, { recursive: true });
    const versions = retrainedRegistry
      ? (readManifest(registryDir)?.versions ?? []).filter((v) => v.headPack).map((entry) => ({ head: `registered in ${retrainedRegistry}`, entry }))
      : HEADS.map((h) => ({ ...h, entry: registerRetrained(registryDir, '1.0.0', h.version, { jitter: h.jitter }) }));
    if (!versions.length) throw new Error(`no version with a head pack in ${retrainedRegistry}`);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const out: HeadOnlyUpdate[] = [];
    for (const { head, entry } of versions) {
      if (!entry.headPack) throw new Error(`the retrained ${entry.version} got no head pack`);
      out.push({
        from: entry.headPack.backbone.version,
        to: entry.version,
        head,
        headPack: await asSent(base, registryDir, entry.headPack.file, accept),
        fullFile: await asSent(base, registryDir, entry.file, accept),
      });
    }
    return out;
  } finally {
    await app.close();
    rmSync(registryDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
