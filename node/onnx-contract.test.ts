import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readManifest, modelFile } from './registry.ts';
import { decodeModel, encodeModel, graphOf } from './onnx-graph.ts';
import { assertOnnxContract, onnxContractProblems } from './onnx-contract.ts';

const manifest = readManifest()!;
const v = manifest.versions.find((x) => x.version === '1.0.0')!;
const bytes = new Uint8Array(readFileSync(modelFile(v)));

describe('ONNX contract at registration', () => {
  it('accepts the shipped model against its own manifest entry', () => {
    expect(onnxContractProblems(bytes, v)).toEqual([]);
  });
  it('refuses bytes that are not ONNX', () => {
    const junk = new TextEncoder().encode('this is not an ONNX model; a broken export '.repeat(100));
    expect(onnxContractProblems(junk, v)[0]).toMatch(/does not parse as an ONNX model|no nodes/);
    expect(() => assertOnnxContract(junk, v)).toThrow(/not registered/);
  });
  it('refuses a graph without the promised input, outputs or widths', () => {
    expect(onnxContractProblems(bytes, { ...v, input: { ...v.input, name: 'pixels' } })[0]).toMatch(/no input "pixels"/);
    expect(onnxContractProblems(bytes, { ...v, outputs: { ...v.outputs, embedding: 'features' } })[0]).toMatch(/no embedding output "features"/);
    expect(onnxContractProblems(bytes, { ...v, outputs: { ...v.outputs, embeddingSize: 512 } })[0]).toMatch(/embedding output .* has 1280 values, the manifest promises 512/);
    expect(onnxContractProblems(bytes, { ...v, labels: v.labels.slice(1) })[0]).toMatch(/logits output .* has \d+ values/);
    // The same graph with its logits output removed.
    const model = decodeModel(bytes);
    const g = graphOf(model);
    g.output = g.output.filter((o) => o.name !== v.outputs.logits);
    expect(onnxContractProblems(encodeModel(model), v)[0]).toMatch(/no logits output/);
  });
});
