/**
 * npm run bench:tflite-exactness [-- --per-group N]
 *
 * The proof that the TFLite-to-ONNX converter (node/tflite/to-onnx.ts) is
 * exact: each of the three .tflite files in ../shared/models/inat runs in
 * LiteRT.js in Chromium (the oracle) and, converted, in onnxruntime-node and
 * onnxruntime-web, on the same 224x224 RGB bytes of N birds, N insects and N
 * other animals from imagenet-val-animals (N at most 54: it has 54 insect
 * photos; default 18). Prints one JSON line per model
 * (top-1 agreement, largest logit and embedding difference in quantization
 * steps) and exits 1 if any top-1 differs or any logit is more than one step off.
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { openOraclePage } from '../harness/litert-runner.ts';
import { checkExactness, exactnessPhotos } from '../harness/tflite-exactness.ts';
import { PACK_SOURCES } from '../node/tflite/packs.ts';

const opts = new Command().name('bench:tflite-exactness').option('--per-group <n>', 'photos of each group (birds, insects, others)', '18').parse().opts<{ perGroup: string }>();

async function main() {
  const photos = exactnessPhotos(Number(opts.perGroup));
  const oracle = await openOraclePage();
  let ok = true;
  try {
    for (const src of PACK_SOURCES) {
      const bar = new cliProgress.SingleBar({ format: `${src.id} [{bar}] {value}/{total} photos`, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
      bar.start(photos.length, 0);
      const r = await checkExactness(oracle, src, photos, () => bar.increment());
      bar.stop();
      const round = (x: number) => Number(x.toFixed(4));
      console.log(
        JSON.stringify({
          ...r,
          maxLogitStepsNode: round(r.maxLogitStepsNode),
          maxLogitStepsWeb: round(r.maxLogitStepsWeb),
          maxEmbeddingStepsNode: round(r.maxEmbeddingStepsNode),
          maxEmbeddingStepsWeb: round(r.maxEmbeddingStepsWeb),
        }),
      );
      ok &&= r.top1AgreeNode === r.photos && r.top1AgreeWeb === r.photos && r.maxLogitStepsNode <= 1.001 && r.maxLogitStepsWeb <= 1.001;
    }
  } finally {
    await oracle.close();
  }
  if (!ok) process.exit(1);
}

main().catch((err) => {
  console.error(`bench:tflite-exactness failed: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
