/**
 * Head packs rebuild the full file exactly, and a damaged or mismatched pack
 * never passes for the real thing: it is refused (HeadPackError), or its
 * result fails the sha256 check the device makes.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REGISTRY_DIR } from '../node/paths.ts';
import { exportWithHead } from '../pipeline/export.ts';
import { seededRandom } from './random.ts';
import { assembleHeadPack, HeadPackError, makeHeadPack, readHeadPack } from './head-pack.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const packOf = (backbone: Uint8Array, target: Uint8Array) => makeHeadPack(backbone, target, { backboneSha256: sha(backbone), targetSha256: sha(target) });

/** A tiny protobuf message: field 1 (bytes) and field 7 (a message of two byte fields), like ModelProto's graph. */
function message(a: number[], g1: number[], g2: number[]): Uint8Array {
  const ld = (field: number, body: number[]) => [(field << 3) | 2, body.length, ...body];
  const graph = [...ld(1, g1), ...ld(5, g2)];
  return Uint8Array.from([...ld(1, a), ...ld(7, graph)]);
}

describe('head packs on small files', () => {
  const backbone = message([1, 2, 3], [9, 9, 9, 9], [7, 7, 7, 7, 7, 7]);
  const target = message([1, 2, 3], [9, 9, 9, 9], [8, 8]);

  it('copies the fields the backbone has and inserts the rest, and assembly gives the target byte for byte', () => {
    const pack = packOf(backbone, target);
    const { header } = readHeadPack(pack);
    expect(header.ops.some((o) => 'copy' in o)).toBe(true);
    expect(header.target).toEqual({ sha256: sha(target), bytes: target.length });
    expect(Array.from(assembleHeadPack(pack, backbone))).toEqual(Array.from(target));
  });

  it('is deterministic', () => {
    expect(Array.from(packOf(backbone, target))).toEqual(Array.from(packOf(backbone, target)));
  });

  it('rebuilds files that are not protobuf (as one insert)', () => {
    const rand = seededRandom(1);
    const a = Uint8Array.from({ length: 300 }, () => Math.floor(rand() * 256));
    const b = Uint8Array.from({ length: 200 }, () => Math.floor(rand() * 256));
    expect(Array.from(assembleHeadPack(packOf(a, b), a))).toEqual(Array.from(b));
  });

  it('refuses malformed packs with a reason', () => {
    const pack = packOf(backbone, target);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['truncated', pack.subarray(0, pack.length - 1), /bytes to insert/],
      ['too short', pack.subarray(0, 5), /at least/],
      ['not a pack', Uint8Array.from([0x50, 0x4b, 3, 4, 1, 0, 0, 0, 0]), /not a head pack/],
      ['another format', Uint8Array.from(pack, (x, i) => (i === 4 ? 9 : x)), /format 9/],
      ['header past the end', Uint8Array.from(pack, (x, i) => (i === 8 ? 0x7f : x)), /past the end/],
    ];
    for (const [name, bad, why] of cases) expect(() => assembleHeadPack(bad, backbone), name).toThrow(why);
    // An op that reads past the backbone, and ops that do not add up to the target.
    const edit = (change: (h: any) => void) => {
      const { header, tailStart } = readHeadPack(pack);
      change(header);
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(9 + json.length + pack.length - tailStart);
      out.set(pack.subarray(0, 5));
      new DataView(out.buffer).setUint32(5, json.length, true);
      out.set(json, 9);
      out.set(pack.subarray(tailStart), 9 + json.length);
      return out;
    };
    expect(() =>
      assembleHeadPack(
        edit((h) => {
          h.ops[0].copy[0] = 1000;
        }),
        backbone,
      ),
    ).toThrow(/runs past the backbone/);
    expect(() =>
      assembleHeadPack(
        edit((h) => {
          h.target.bytes += 1;
        }),
        backbone,
      ),
    ).toThrow(/the target is/);
    expect(() =>
      assembleHeadPack(
        edit((h) => {
          h.ops.push({ delete: 1 });
        }),
        backbone,
      ),
    ).toThrow(HeadPackError);
    expect(() =>
      assembleHeadPack(
        edit((h) => {
          delete h.backbone;
        }),
        backbone,
      ),
    ).toThrow(/lacks the backbone/);
  });

  it('refuses a backbone of another size, and a damaged inserted byte fails the sha256 check', () => {
    const pack = packOf(backbone, target);
    expect(() => assembleHeadPack(pack, backbone.subarray(1))).toThrow(/the backbone is/);
    const damaged = Uint8Array.from(pack, (x, i) => (i === pack.length - 1 ? x ^ 0xff : x));
    const out = assembleHeadPack(damaged, backbone);
    expect(sha(out)).not.toBe(readHeadPack(damaged).header.target.sha256);
  });
});

const haveModel = existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'));

describe.runIf(haveModel)('a head pack of a retrained 1.0.0', () => {
  it('holds little more than the new head and rebuilds the exported file exactly', () => {
    const backbone = new Uint8Array(readFileSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx')));
    const rand = seededRandom(3);
    const K = 104,
      D = 1280;
    const head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => (rand() - 0.5) * 0.1), bias: Float32Array.from({ length: K }, () => rand() - 0.5) };
    const target = exportWithHead(backbone, head, { temperature: 1.3, version: '1.1.0', labelsSha256: '0'.repeat(64) });
    const pack = packOf(backbone, target);
    // The head is K x D float32 weights; the pack holds that and a few KB of graph around it.
    expect(pack.length).toBeGreaterThan(K * D * 4);
    expect(pack.length).toBeLessThan(K * D * 4 + 16 * 1024);
    expect(sha(assembleHeadPack(pack, backbone))).toBe(sha(target));
    // The same pack on another backbone of the same size is not the target.
    const other = Uint8Array.from(backbone, (x, i) => (i === backbone.length >> 1 ? x ^ 1 : x));
    expect(sha(assembleHeadPack(pack, other))).not.toBe(sha(target));
  }, 60_000);
});
