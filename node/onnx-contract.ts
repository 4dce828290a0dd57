/**
 * Does a file hold the ONNX graph its manifest entry promises? Checked at
 * registration (node/registry.ts registerVersion, used by the pipeline and
 * the admin API), so bytes that are not a model, or a graph without the
 * promised input and outputs, never become a version devices download and
 * then fail to start.
 */
import { decodeModel, graphOf } from './onnx-graph.ts';
import type { ModelVersion } from '../core/manifest.ts';

type Promise_ = Pick<ModelVersion, 'input' | 'outputs' | 'labels'>;

/** Fixed sizes of a value's dimensions (null where the dimension is symbolic or unknown). */
function dims(v: { type?: { tensorType?: { shape?: { dim?: Array<{ dimValue?: unknown; dimParam?: string | null }> | null } | null } | null } | null }): Array<number | null> | null {
  const d = v.type?.tensorType?.shape?.dim;
  if (!d) return null;
  return d.map((x) => (x.dimValue !== undefined && x.dimValue !== null && Number(x.dimValue) > 0 ? Number(x.dimValue) : null));
}

/** Every way the bytes break the promise, in sentences; empty when they keep it. */
export function onnxContractProblems(bytes: Uint8Array, promised: Promise_): string[] {
  let graph: ReturnType<typeof graphOf>;
  try {
    graph = graphOf(decodeModel(bytes));
  } catch (err) {
    return [`the file does not parse as an ONNX model (${(err as Error).message})`];
  }
  if (!graph.node?.length) return ['the file parses as ONNX but its graph has no nodes'];
  const problems: string[] = [];
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  const input = inputs.find((i) => i.name === promised.input.name);
  if (!input) problems.push(`the graph has no input "${promised.input.name}" (it has ${inputs.map((i) => `"${i.name}"`).join(', ') || 'none'})`);
  else {
    const d = dims(input);
    const want = [null, 3, promised.input.size, promised.input.size];
    if (d && (d.length !== 4 || d.some((x, i) => x !== null && want[i] !== null && x !== want[i]))) {
      problems.push(`input "${promised.input.name}" is [${d.map((x) => x ?? '?').join(', ')}], not [batch, 3, ${promised.input.size}, ${promised.input.size}]`);
    }
  }
  const outputs = graph.output ?? [];
  const lastDim = (name: string) => {
    const o = outputs.find((x) => x.name === name);
    if (!o) return undefined;
    const d = dims(o);
    return d ? d[d.length - 1] : null;
  };
  for (const [what, name, width] of [
    ['logits', promised.outputs.logits, promised.labels.length],
    ['embedding', promised.outputs.embedding, promised.outputs.embeddingSize],
  ] as const) {
    const last = lastDim(name);
    if (last === undefined) problems.push(`the graph has no ${what} output "${name}" (it has ${outputs.map((o) => `"${o.name}"`).join(', ') || 'none'})`);
    else if (last !== null && last !== width) problems.push(`${what} output "${name}" has ${last} values, the manifest promises ${width}`);
  }
  return problems;
}

export class OnnxContractError extends Error {
  constructor(readonly problems: string[]) {
    super(`not registered: ${problems.join('; ')}`);
    this.name = 'OnnxContractError';
  }
}

export function assertOnnxContract(bytes: Uint8Array, promised: Promise_): void {
  const problems = onnxContractProblems(bytes, promised);
  if (problems.length) throw new OnnxContractError(problems);
}
