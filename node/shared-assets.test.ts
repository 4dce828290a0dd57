import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { AssetError, verifyAssets } from './shared-assets.ts';

function assets(files: Record<string, string>, sums: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-assets-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  writeFileSync(
    path.join(dir, 'SHA256SUMS'),
    Object.entries(sums)
      .map(([name, text]) => `${createHash('sha256').update(text).digest('hex')}  ${name}`)
      .join('\n') + '\n',
  );
  return dir;
}

describe('verifyAssets', () => {
  it('passes files that match SHA256SUMS', () => {
    const dir = assets({ 'a.onnx': 'model bytes', 'synset.txt': 'labels' }, { 'a.onnx': 'model bytes', 'synset.txt': 'labels' });
    expect(() => verifyAssets(dir, ['a.onnx', 'synset.txt'])).not.toThrow();
  });

  it('stops on an altered file, naming it and where it is', () => {
    const dir = assets({ 'a.onnx': 'model bytes, changed' }, { 'a.onnx': 'model bytes' });
    expect(() => verifyAssets(dir, ['a.onnx'])).toThrow(AssetError);
    expect(() => verifyAssets(dir, ['a.onnx'])).toThrow(`altered ${path.join(dir, 'a.onnx')}`);
  });

  it('stops on a missing file and on a missing SHA256SUMS', () => {
    const dir = assets({}, { 'a.onnx': 'model bytes' });
    expect(() => verifyAssets(dir, ['a.onnx'])).toThrow(`missing ${path.join(dir, 'a.onnx')}`);
    const empty = mkdtempSync(path.join(tmpdir(), 'wildsight-assets-'));
    expect(() => verifyAssets(empty, ['a.onnx'])).toThrow(/SHA256SUMS/);
  });

  it('refuses a file that SHA256SUMS does not list', () => {
    const dir = assets({ 'b.onnx': 'x' }, { 'a.onnx': 'model bytes' });
    expect(() => verifyAssets(dir, ['b.onnx'])).toThrow(/not listed/);
  });
});
