/**
 * Every labelled photo's logits from the Node classifier, and optionally
 * those of its mirror image (the model input flipped left to right, which is
 * exactly the mirrored photo's centre crop), for the fusion and mirror
 * measurements of `npm run eval`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { mirrorTensor } from '../core/fusion.ts';
import type { LabelledPhoto } from './labelled-photos.ts';
import type { NodeClassifier } from './node-classifier.ts';

export interface ViewLogits {
  file: string;
  label: string;
  logits: Float32Array;
  mirror?: Float32Array;
}

export async function viewLogits(
  classifier: NodeClassifier,
  photos: readonly LabelledPhoto[],
  opts: { mirror: boolean; onEach?: () => void; onError?: (file: string, err: Error) => void },
): Promise<ViewLogits[]> {
  const s = classifier.model.input.size;
  const out: ViewLogits[] = [];
  for (const photo of photos) {
    try {
      const tensor = await classifier.tensorFor(new Uint8Array(await readFile(photo.file)), path.basename(photo.file));
      const batch = opts.mirror ? new Float32Array(2 * tensor.length) : tensor;
      if (opts.mirror) {
        batch.set(tensor);
        batch.set(mirrorTensor(tensor, 3, s, s), tensor.length);
      }
      const { logits } = await classifier.run(batch, opts.mirror ? 2 : 1);
      out.push({ file: path.basename(photo.file), label: photo.label, logits: logits[0], ...(opts.mirror ? { mirror: logits[1] } : {}) });
    } catch (err) {
      if (!opts.onError) throw err;
      opts.onError(photo.file, err as Error);
    }
    opts.onEach?.();
  }
  return out;
}
