/**
 * Turns an ImageNet-1k zoo classifier into a Wildsight species model: one
 * graph with two outputs, `logits` over the launch taxa plus "other" (the
 * log-sum-exp of every non-launch ImageNet logit, so "other" carries exactly
 * the probability mass softmax would give those 900 classes), and
 * `embedding`, the penultimate feature vector used to retrain the head.
 */
import { decodeModel, encodeModel, floatOutput, graphOf, hasTensor, int64Initializer, node, readInt64, writeInt64 } from './onnx-graph.ts';

export interface BaseRecipe {
  name: string;
  file: string;
  license: string;
  /** Where the pooled feature vector is (PROVENANCE.md). */
  embedding: { tensor: string; dequantize?: { scale: string; zeroPoint: string } };
  embeddingSize: number;
  /** The zoo graph fixes batch 1 in its input and channel-shuffle Reshapes. */
  fixedBatch: boolean;
}

export const BASES: Record<string, BaseRecipe> = {
  'mobilenetv2-12-int8': {
    name: 'mobilenetv2-12-int8',
    file: 'mobilenetv2-12-int8.onnx',
    license: 'Apache-2.0',
    embedding: { tensor: '472_quantized', dequantize: { scale: '464_scale', zeroPoint: '464_zero_point' } },
    embeddingSize: 1280,
    fixedBatch: false,
  },
  'shufflenet-v2-12-qdq': {
    name: 'shufflenet-v2-12-qdq',
    file: 'shufflenet-v2-12-qdq.onnx',
    license: 'BSD-3-Clause',
    embedding: { tensor: '611' },
    embeddingSize: 1024,
    fixedBatch: true,
  },
};

export const LOGITS = 'logits';
export const EMBEDDING = 'embedding';
const BATCH = 'batch_size';

export interface SpeciesModelOptions {
  recipe: BaseRecipe;
  /** ImageNet indices of the launch taxa, in label order. */
  speciesIndices: number[];
  imagenetClasses?: number;
  version: string;
  labelsSha256: string;
}

export function buildSpeciesModel(baseBytes: Uint8Array, opts: SpeciesModelOptions): Uint8Array {
  const { recipe, speciesIndices } = opts;
  const classes = opts.imagenetClasses ?? 1000;
  const launch = new Set(speciesIndices);
  if (launch.size !== speciesIndices.length) throw new Error('duplicate ImageNet index among the launch taxa');
  for (const i of speciesIndices) if (!(Number.isInteger(i) && i >= 0 && i < classes)) throw new Error(`ImageNet index ${i} out of range`);
  const otherIndices = Array.from({ length: classes }, (_, i) => i).filter((i) => !launch.has(i));

  const model = decodeModel(baseBytes);
  const g = graphOf(model);
  if (g.output.length !== 1 || g.output[0].name !== 'output') throw new Error(`${recipe.file}: expected one output named "output"`);
  if (!hasTensor(model, recipe.embedding.tensor)) throw new Error(`${recipe.file}: embedding tensor ${recipe.embedding.tensor} not found`);

  if (recipe.fixedBatch) freeBatchDimension(model);

  g.initializer.push(int64Initializer('wildsight_species_idx', speciesIndices), int64Initializer('wildsight_other_idx', otherIndices));
  g.node.push(
    node('Gather', ['output', 'wildsight_species_idx'], ['wildsight_species_logits'], { axis: 1 }),
    node('Gather', ['output', 'wildsight_other_idx'], ['wildsight_other_logits'], { axis: 1 }),
    node('ReduceLogSumExp', ['wildsight_other_logits'], ['wildsight_other_logit'], { axes: [1], keepdims: 1 }),
    node('Concat', ['wildsight_species_logits', 'wildsight_other_logit'], [LOGITS], { axis: 1 }),
  );
  const deq = recipe.embedding.dequantize;
  g.node.push(deq ? node('DequantizeLinear', [recipe.embedding.tensor, deq.scale, deq.zeroPoint], [EMBEDDING]) : node('Identity', [recipe.embedding.tensor], [EMBEDDING]));
  g.output = [floatOutput(LOGITS, BATCH, speciesIndices.length + 1), floatOutput(EMBEDDING, BATCH, recipe.embeddingSize)];

  model.producerName = 'wildsight models:build';
  model.docString = `Wildsight species model ${opts.version} from ${recipe.file}`;
  model.metadataProps = [
    { key: 'wildsight.version', value: opts.version },
    { key: 'wildsight.base', value: recipe.name },
    { key: 'wildsight.labels_sha256', value: opts.labelsSha256 },
  ];
  return encodeModel(model);
}

/**
 * Makes a graph exported with batch 1 accept any batch: the input and output
 * get a symbolic batch dimension, and Reshape targets whose leading 1 is the
 * batch copy it from their input instead (ONNX Reshape's 0 means "keep").
 */
function freeBatchDimension(model: ReturnType<typeof decodeModel>) {
  const g = graphOf(model);
  for (const vi of [...g.input, ...g.output]) {
    const dim = vi.type?.tensorType?.shape?.dim;
    if (dim?.length) dim[0] = { dimParam: BATCH };
  }
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  for (const n of g.node) {
    if (n.opType !== 'Reshape') continue;
    const shape = inits.get(n.input[1]);
    if (!shape) throw new Error(`Reshape ${n.name} has a computed shape; cannot free its batch dimension`);
    const values = readInt64(shape);
    if (values[0] === 1) writeInt64(shape, [0, ...values.slice(1)]);
  }
  g.valueInfo = [];
}
