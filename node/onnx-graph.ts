/**
 * Small, explicit edits of ONNX graphs with the onnx protobuf schema
 * (onnx-proto): enough to append nodes, constants and outputs to a zoo model
 * without Python.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = import('onnx-proto').onnx.ModelProto;
type INodeProto = import('onnx-proto').onnx.INodeProto;
type IValueInfoProto = import('onnx-proto').onnx.IValueInfoProto;

export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function int64Initializer(name: string, values: readonly number[]) {
  const raw = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => raw.setBigInt64(i * 8, BigInt(v), true));
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(raw.buffer) });
}

/** A float32 initializer (the values are copied, so a view into a larger buffer is fine). */
export function floatInitializer(name: string, dims: readonly number[], values: Float32Array | readonly number[]) {
  const data = Float32Array.from(values);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
}

/** Reads an int64 tensor whether it is stored as raw bytes or as int64Data. */
export function readInt64(tensor: import('onnx-proto').onnx.ITensorProto): number[] {
  if (tensor.rawData && tensor.rawData.length) {
    const view = new DataView(tensor.rawData.buffer, tensor.rawData.byteOffset, tensor.rawData.byteLength);
    return Array.from({ length: tensor.rawData.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  // eslint-disable-next-line @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- onnx-proto types int64 fields as a global `Long` it never declares, so they read as unresolved
  return (tensor.int64Data ?? []).map((v) => Number(v.toString()));
}

/** Values of an initializer as numbers (float, int8, uint8, int32 in raw or typed fields). */
export function tensorValues(t: import('onnx-proto').onnx.ITensorProto): Float64Array {
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  const out = new Float64Array(count);
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      switch (t.dataType) {
        case DataType.FLOAT:
          out[i] = view.getFloat32(i * 4, true);
          break;
        case DataType.INT8:
          out[i] = view.getInt8(i);
          break;
        case DataType.UINT8:
          out[i] = view.getUint8(i);
          break;
        case DataType.INT32:
          out[i] = view.getInt32(i * 4, true);
          break;
        default:
          throw new Error(`initializer ${t.name}: data type ${t.dataType} not handled`);
      }
    }
    return out;
  }
  const src = (t.dataType === DataType.FLOAT ? t.floatData : t.int32Data) ?? [];
  if (src.length !== count) throw new Error(`initializer ${t.name}: ${src.length} values for ${count}`);
  for (let i = 0; i < count; i++) out[i] = Number(src[i]);
  return out;
}

export function writeInt64(tensor: import('onnx-proto').onnx.ITensorProto, values: readonly number[]) {
  const raw = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => raw.setBigInt64(i * 8, BigInt(v), true));
  tensor.rawData = new Uint8Array(raw.buffer);
  tensor.int64Data = [];
}

type GraphNode = INodeProto & { input: string[]; output: string[] };

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, number | number[]> = {}): GraphNode {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v)
      ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
      : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v }),
  );
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: `wildsight_${outputs[0]}`, attribute });
}

/** A float tensor value info with a symbolic batch dimension. */
export function floatOutput(name: string, batchDim: string, width: number): IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: batchDim }, { dimValue: width }] } } },
  });
}

/** The graph with its repeated fields typed as present (protobufjs always decodes them as arrays). */
export interface Graph {
  initializer: import('onnx-proto').onnx.ITensorProto[];
  node: GraphNode[];
  input: IValueInfoProto[];
  output: IValueInfoProto[];
  valueInfo: IValueInfoProto[];
}

export function graphOf(model: ModelProto): Graph {
  if (!model.graph) throw new Error('the model has no graph');
  return model.graph as unknown as Graph;
}

export function hasTensor(model: ModelProto, name: string): boolean {
  const g = graphOf(model);
  return g.initializer.some((t) => t.name === name) || g.node.some((n) => n.output.includes(name));
}
