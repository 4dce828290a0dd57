/**
 * Head packs: a retrained model version sent as only what differs from a
 * backbone the device already holds (issue 14). A retrained version is its
 * parent's graph with a new head, so nearly every byte of its ONNX file,
 * every backbone node and weight, is already on a device that runs the
 * parent. The pack lists how to rebuild the full file: copy this range of
 * the backbone file, then insert these bytes, and so on.
 *
 * The format, all of it defined here:
 *
 *   "WSHP"  format byte (1)  header length (u32 LE)  header (ASCII JSON)  inserted bytes
 *
 * header = { backbone: { sha256, bytes }, target: { sha256, bytes },
 *            ops: [ { copy: [offset, length] } | { insert: length } ... ] }
 *
 * Inserts take their bytes from the tail in order. Assembly is a pure byte
 * concatenation, so its result is exactly the full file, byte for byte: the
 * manifest's sha256 of the full file is the check of the assembled one.
 * Hashing is the caller's (core has no crypto): the worker checks the
 * backbone it holds and the result with SubtleCrypto, the registry with
 * node:crypto.
 *
 * The pack is made at the protobuf level (an ONNX file is a ModelProto):
 * each top-level field, and each field of the graph (every node, every
 * initializer), is copied from the backbone when the backbone has the same
 * bytes, else inserted. Nothing here knows ONNX beyond the graph's field
 * number, so a pack can be made from any two files; one that saves nothing
 * is simply not worth keeping (the registry's decision).
 */

export const HEAD_PACK_MAGIC = 'WSHP';
export const HEAD_PACK_FORMAT = 1;
const PREFIX = 4 + 1 + 4;
/** ModelProto.graph (onnx.proto): its fields are the nodes and initializers worth copying one by one. */
const MODEL_GRAPH_FIELD = 7;

export type HeadPackOp = { copy: [offset: number, length: number] } | { insert: number };

export interface HeadPackHeader {
  backbone: { sha256: string; bytes: number };
  target: { sha256: string; bytes: number };
  ops: HeadPackOp[];
}

/** A pack that cannot be assembled: malformed, or not for the backbone given. Nothing should be kept. */
export class HeadPackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadPackError';
  }
}

// ---------------------------------------------------------------- protobuf wire format

/** Reads a varint at `at`; returns its value and the offset after it (numbers up to 2^53 are exact). */
function varint(b: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    value += (b[i] & 0x7f) * scale;
    scale *= 128;
    if (!(b[i] & 0x80)) return [value, i + 1];
  }
  throw new HeadPackError(`bad varint at byte ${at}`);
}

interface Field {
  number: number;
  start: number;
  end: number;
  payload: number;
}

/** The top-level fields of a protobuf message in b[start, end), each as its byte range (tag included). */
function fieldsOf(b: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
  let at = start;
  while (at < end) {
    const [tag, afterTag] = varint(b, at);
    const wire = tag % 8;
    let next: number;
    let payload = afterTag;
    if (wire === 0) next = varint(b, afterTag)[1];
    else if (wire === 1) next = afterTag + 8;
    else if (wire === 5) next = afterTag + 4;
    else if (wire === 2) {
      const [len, p] = varint(b, afterTag);
      payload = p;
      next = p + len;
    } else throw new HeadPackError(`unsupported protobuf wire type ${wire} at byte ${at}`);
    if (next > end) throw new HeadPackError(`protobuf field at byte ${at} runs past its message`);
    out.push({ number: Math.floor(tag / 8), start: at, end: next, payload });
    at = next;
  }
  return out;
}

/**
 * The file cut into pieces worth matching: each top-level field, except the
 * graph, which is cut into its tag and length, then each of its fields.
 * Not protobuf: the whole file is one piece.
 */
function pieces(b: Uint8Array): Array<[start: number, end: number]> {
  let fields: Field[];
  try {
    fields = fieldsOf(b, 0, b.length);
  } catch {
    return [[0, b.length]];
  }
  const out: Array<[number, number]> = [];
  for (const f of fields) {
    if (f.number !== MODEL_GRAPH_FIELD) {
      out.push([f.start, f.end]);
      continue;
    }
    let inner: Field[];
    try {
      inner = fieldsOf(b, f.payload, f.end);
    } catch {
      out.push([f.start, f.end]);
      continue;
    }
    out.push([f.start, f.payload]);
    for (const g of inner) out.push([g.start, g.end]);
  }
  return out;
}

// ---------------------------------------------------------------- making a pack

/** FNV-1a over a range, sampled for long ranges (a bucket key only: matches are confirmed byte by byte). */
function rangeKey(b: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  const step = Math.max(1, Math.floor((end - start) / 4096));
  for (let i = start; i < end; i += step) h = Math.imul(h ^ b[i], 0x01000193);
  return `${end - start}:${h >>> 0}`;
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new HeadPackError('the head pack header must be ASCII');
    out[i] = c;
  }
  return out;
}

/**
 * The pack that rebuilds `target` from `backbone`. The hashes are the
 * caller's (they are only written into the header). Deterministic: the same
 * two files always give the same pack.
 */
export function makeHeadPack(backbone: Uint8Array, target: Uint8Array, hashes: { backboneSha256: string; targetSha256: string }): Uint8Array {
  const index = new Map<string, number[]>();
  for (const [s, e] of pieces(backbone)) {
    const k = rangeKey(backbone, s, e);
    const list = index.get(k);
    if (list) list.push(s);
    else index.set(k, [s]);
  }
  const ops: HeadPackOp[] = [];
  const inserted: Array<[number, number]> = [];
  for (const [s, e] of pieces(target)) {
    const length = e - s;
    const from = (index.get(rangeKey(target, s, e)) ?? []).find((o) => sameBytes(backbone, o, target, s, length));
    const last = ops[ops.length - 1];
    if (from !== undefined) {
      // A copy that continues the previous one in the backbone is the same copy, longer.
      if (last && 'copy' in last && last.copy[0] + last.copy[1] === from) last.copy[1] += length;
      else ops.push({ copy: [from, length] });
    } else {
      if (last && 'insert' in last) last.insert += length;
      else ops.push({ insert: length });
      inserted.push([s, e]);
    }
  }
  const header: HeadPackHeader = {
    backbone: { sha256: hashes.backboneSha256, bytes: backbone.length },
    target: { sha256: hashes.targetSha256, bytes: target.length },
    ops,
  };
  const json = asciiBytes(JSON.stringify(header));
  const tail = inserted.reduce((n, [s, e]) => n + e - s, 0);
  const out = new Uint8Array(PREFIX + json.length + tail);
  out.set(asciiBytes(HEAD_PACK_MAGIC), 0);
  out[4] = HEAD_PACK_FORMAT;
  new DataView(out.buffer).setUint32(5, json.length, true);
  out.set(json, PREFIX);
  let at = PREFIX + json.length;
  for (const [s, e] of inserted) {
    out.set(target.subarray(s, e), at);
    at += e - s;
  }
  return out;
}

// ---------------------------------------------------------------- reading and assembling

const SHA256 = /^[0-9a-f]{64}$/;
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The header and where the inserted bytes start; throws HeadPackError on anything malformed. */
export function readHeadPack(pack: Uint8Array): { header: HeadPackHeader; tailStart: number } {
  if (pack.length < PREFIX) throw new HeadPackError(`a head pack is at least ${PREFIX} bytes; this one is ${pack.length}`);
  const magic = String.fromCharCode(pack[0], pack[1], pack[2], pack[3]);
  if (magic !== HEAD_PACK_MAGIC) throw new HeadPackError('not a head pack (its first bytes are not WSHP)');
  if (pack[4] !== HEAD_PACK_FORMAT) throw new HeadPackError(`head pack format ${pack[4]} is not one this app reads (${HEAD_PACK_FORMAT})`);
  const length = new DataView(pack.buffer, pack.byteOffset, pack.byteLength).getUint32(5, true);
  if (PREFIX + length > pack.length) throw new HeadPackError(`its header says ${length} bytes, past the end of the pack`);
  let text = '';
  for (let i = PREFIX; i < PREFIX + length; i++) {
    if (pack[i] > 0x7f) throw new HeadPackError('its header is not ASCII JSON');
    text += String.fromCharCode(pack[i]);
  }
  let h: HeadPackHeader;
  try {
    h = JSON.parse(text) as HeadPackHeader;
  } catch {
    throw new HeadPackError('its header is not JSON');
  }
  const part = (x: unknown) => typeof x === 'object' && x !== null && SHA256.test((x as { sha256: string }).sha256) && isCount((x as { bytes: number }).bytes);
  if (typeof h !== 'object' || h === null || !part(h.backbone) || !part(h.target) || !Array.isArray(h.ops)) {
    throw new HeadPackError('its header lacks the backbone, the target or the ops');
  }
  for (const op of h.ops) {
    const ok =
      typeof op === 'object' &&
      op !== null &&
      Object.keys(op).length === 1 &&
      (('copy' in op && Array.isArray(op.copy) && op.copy.length === 2 && isCount(op.copy[0]) && isCount(op.copy[1])) || ('insert' in op && isCount(op.insert)));
    if (!ok) throw new HeadPackError(`its op ${JSON.stringify(op).slice(0, 60)} is neither { copy: [offset, length] } nor { insert: length }`);
  }
  return { header: h, tailStart: PREFIX + length };
}

/**
 * The full model file: `pack` applied to `backbone`. Checks every range and
 * size the header gives; the caller checks the result's sha256 against the
 * manifest (and the backbone's before calling).
 */
export function assembleHeadPack(pack: Uint8Array, backbone: Uint8Array): Uint8Array {
  const { header, tailStart } = readHeadPack(pack);
  if (backbone.length !== header.backbone.bytes) throw new HeadPackError(`the backbone is ${backbone.length} bytes; the pack is for one of ${header.backbone.bytes}`);
  let total = 0;
  let tail = 0;
  for (const op of header.ops) {
    if ('copy' in op) {
      const [offset, length] = op.copy;
      if (offset + length > backbone.length) throw new HeadPackError(`a copy of ${length} bytes at ${offset} runs past the backbone (${backbone.length} bytes)`);
      total += length;
    } else {
      total += op.insert;
      tail += op.insert;
    }
  }
  if (total !== header.target.bytes) throw new HeadPackError(`its ops make ${total} bytes; the target is ${header.target.bytes}`);
  if (tailStart + tail !== pack.length) throw new HeadPackError(`it holds ${pack.length - tailStart} bytes to insert; its ops use ${tail}`);
  const out = new Uint8Array(total);
  let at = 0;
  let from = tailStart;
  for (const op of header.ops) {
    if ('copy' in op) {
      out.set(backbone.subarray(op.copy[0], op.copy[0] + op.copy[1]), at);
      at += op.copy[1];
    } else {
      out.set(pack.subarray(from, from + op.insert), at);
      from += op.insert;
      at += op.insert;
    }
  }
  return out;
}
