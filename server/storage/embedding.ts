/**
 * Embeddings are stored as little-endian float32 bytes. The model computes
 * them in float32, so this keeps every bit the model produced while taking a
 * quarter of the room of JSON text; little-endian is fixed so the bytes mean
 * the same on any machine that reads the database.
 */
export function encodeEmbedding(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf;
}

export function decodeEmbedding(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) throw new Error(`embedding has ${bytes.length} bytes, not a whole number of float32 values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
