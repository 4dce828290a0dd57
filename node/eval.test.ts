/**
 * The shipped model's accuracy on held-out ImageNet validation photos,
 * through the real CLI (onnxruntime-node, the built registry).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR_SHARED, REPO_ROOT } from './paths.ts';

const images = path.join(DATA_DIR_SHARED, 'imagenet-val-animals');

describe.skipIf(!existsSync(images))('npm run eval -- --runtime node', () => {
  it('v1.0.0 reaches top1 >= 0.86 on launch photos and other_accuracy >= 0.95', () => {
    const out = execFileSync('npx', ['tsx', 'scripts/eval.ts', '--runtime', 'node', '--images', images, '--labels', path.join(images, 'labels.csv'), '--model', '1.0.0'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ n: 597, n_launch: 179, n_other: 418, model: '1.0.0', errors: 0 });
    expect(line.top1).toBeGreaterThanOrEqual(0.86);
    expect(line.other_accuracy).toBeGreaterThanOrEqual(0.95);
    expect(line.top5).toBeGreaterThanOrEqual(line.top1);
    expect(line.median_ms).toBeGreaterThan(0);
  }, 180_000);
});
