/**
 * A retrained version registered as the pipeline registers one, for the
 * head-pack test and bench:wire: the parent's graph with a float head
 * spliced in by the pipeline's export step (pipeline/export.ts), registered
 * by node/registry.ts (which writes the head pack). The head is the float
 * head that reproduces the parent's launch logits (pipeline/base-head.ts):
 * the shape and kind of weights a retrain writes (launch rows x embedding,
 * float32), and one that answers sensibly, without a training run. Its
 * weights are int8 values dequantized, so they compress better than trained
 * ones; `jitter` scales each weight by 1 + jitter x U(-0.5, 0.5) (seeded),
 * which leaves the answers as they are but gives every weight full float
 * precision, as gradient steps do: the conservative case for bytes on the wire.
 */
import { loadTaxonomy, loadVersion, registerVersion } from '../node/registry.ts';
import { exportWithHead } from '../pipeline/export.ts';
import { BaseHead } from '../pipeline/base-head.ts';
import type { ModelVersion } from '../core/manifest.ts';
import { seededRandom } from '../core/random.ts';

export function registerRetrained(registryDir: string, parentVersion = '1.0.0', version = '1.1.0', opts: { jitter?: number; seed?: number } = {}): ModelVersion {
  const { model: parent, bytes: parentBytes } = loadVersion(parentVersion, registryDir);
  const launch = loadTaxonomy()
    .taxa.filter((t) => t.imagenetIndex != null)
    .map((t) => t.imagenetIndex!);
  const head = new BaseHead(parentBytes, launch).launch;
  if (opts.jitter) {
    const rand = seededRandom(opts.seed ?? 1);
    head.weights = head.weights.map((w) => w * (1 + opts.jitter! * (rand() - 0.5)));
  }
  const bytes = exportWithHead(parentBytes, head, { temperature: 1, version, labelsSha256: parent.labelsSha256 });
  const { file: _f, sha256: _s, bytes: _b, headPack: _h, ...meta } = parent;
  return registerVersion(bytes, { ...meta, version, temperature: 1, lineage: { parent: parentVersion, run: 'retrained-version (harness)' }, createdAt: new Date().toISOString() }, registryDir);
}
