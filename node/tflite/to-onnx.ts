/**
 * TFLite (uint8, per-tensor quantized MobileNet-style classifiers) to ONNX
 * on the quantized operators onnxruntime-web runs, those the zoo's int8
 * MobileNetV2 uses: QLinearConv, com.microsoft QLinearGlobalAveragePool /
 * QLinearAveragePool, QuantizeLinear and DequantizeLinear. ADD alone is
 * spelled out in int64 arithmetic rather than com.microsoft QLinearAdd, to
 * round exactly as the oracle does (see add()). Only the operators the
 * iNaturalist packs and the ImageNet reference use are handled; anything
 * else is refused by name.
 *
 * Layout: TFLite is NHWC, ONNX's QLinearConv is NCHW, so every 4-D
 * activation is kept NCHW and weights are transposed once here, at build time.
 *
 * Outputs, like the project's other versions: `logits` (the dequantized input
 * of the final SOFTMAX) and `embedding` (the dequantized AVERAGE_POOL_2D
 * output). The input `input` is float32 NCHW holding the uint8 values the
 * TFLite input tensor takes (for these models the raw 0..255 pixels), so the
 * app's normalization with scale 1, mean 0, std 1 feeds it exactly.
 */
import { onnx, DataType, encodeModel, int64Initializer, node as onnxNode } from '../onnx-graph.ts';
import { ActivationFunctionType, AddOptionsT, Conv2DOptionsT, DepthwiseConv2DOptionsT, FullyConnectedOptionsT, Padding, Pool2DOptionsT } from './generated/tflite-schema_generated.ts';
import { BuiltinOperator, TensorType, TfliteError, builtinCode, bufferBytes, operatorName, quantOf, readTflite, tensorName, type ModelT, type TensorT } from './read.ts';

/** The operators this converter maps; the list, nothing more. */
export const SUPPORTED_OPERATORS: readonly BuiltinOperator[] = [
  BuiltinOperator.CONV_2D,
  BuiltinOperator.DEPTHWISE_CONV_2D,
  BuiltinOperator.ADD,
  BuiltinOperator.AVERAGE_POOL_2D,
  BuiltinOperator.FULLY_CONNECTED,
  BuiltinOperator.RESHAPE,
  BuiltinOperator.SOFTMAX,
];

export const ONNX_OPSET = 13;
export const LOGITS = 'logits';
export const EMBEDDING = 'embedding';
export const INPUT = 'input';

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** What a caller needs to feed and read the converted model, recorded next to it. */
export interface ConvertedInfo {
  input: { name: string; layout: 'NCHW'; size: number; channels: 'RGB'; tfliteQuantization: QuantParams };
  /** Preprocessing, in the app's InputSpec terms, that turns raw 0..255 pixels into exactly the uint8 values TFLite gets. */
  preprocessing: { scale: number; mean: number[]; std: number[] };
  outputs: { logits: string; embedding: string; embeddingSize: number; classes: number };
  /** Quantization of the uint8 tensors behind the float outputs: one "step" of each. */
  logitsQuantization: QuantParams;
  embeddingQuantization: QuantParams;
  /** TFLite tensor names of the logits and the embedding, for the oracle. */
  tfliteTensors: { logits: number; embedding: number; logitsName: string; embeddingName: string };
  operators: Record<string, number>;
}

export interface Converted {
  onnx: Uint8Array;
  info: ConvertedInfo;
}

type Initializer = import('onnx-proto').onnx.ITensorProto;
type OnnxNode = ReturnType<typeof onnxNode>;

/** Converts TFLite bytes; throws TfliteError naming the first thing it cannot convert. */
export function convertTflite(bytes: Uint8Array, opts: { name?: string } = {}): Converted {
  const model = readTflite(bytes);
  const g = model.subgraphs[0];
  // Refuse unsupported operators before anything else, naming each one once.
  const unsupported = new Set<string>();
  for (const op of g.operators) {
    const code = builtinCode(model, op.opcodeIndex);
    if (code === BuiltinOperator.CUSTOM) unsupported.add(`CUSTOM (${String(model.operatorCodes[op.opcodeIndex].customCode)})`);
    else if (!SUPPORTED_OPERATORS.includes(code)) unsupported.add(operatorName(code));
  }
  if (unsupported.size) {
    throw new TfliteError(
      `unsupported TFLite operator${unsupported.size > 1 ? 's' : ''} ${[...unsupported].join(', ')}: the converter handles only ${SUPPORTED_OPERATORS.map(operatorName).join(', ')}`,
    );
  }
  return new Converter(model, opts.name ?? 'tflite').run();
}

class Converter {
  private readonly nodes: OnnxNode[] = [];
  private readonly inits: Initializer[] = [];
  private readonly initNames = new Set<string>();
  private readonly counts: Record<string, number> = {};

  constructor(
    private readonly model: ModelT,
    private readonly name: string,
  ) {}

  private get g() {
    return this.model.subgraphs[0];
  }
  private tensor(i: number): TensorT {
    const t = this.g.tensors[i];
    if (!t) throw new TfliteError(`operator refers to tensor ${i}, which the model does not define`);
    return t;
  }

  run(): Converted {
    const g = this.g;
    if (g.inputs.length !== 1) throw new TfliteError(`the model has ${g.inputs.length} inputs; only one image input is supported`);
    const inputIdx = g.inputs[0];
    const inT = this.tensor(inputIdx);
    this.requireUint8(inT, 'the model input');
    if (inT.shape.length !== 4 || inT.shape[0] !== 1 || inT.shape[1] !== inT.shape[2] || inT.shape[3] !== 3) {
      throw new TfliteError(`the model input has shape [${inT.shape.join(',')}]; expected an NHWC RGB square image [1,S,S,3]`);
    }
    const size = inT.shape[1];
    const inQ = quantOf(inT, 'the model input');

    // The final SOFTMAX gives the logits (its input); the AVERAGE_POOL_2D gives the embedding.
    const softmaxes = g.operators.filter((op) => builtinCode(this.model, op.opcodeIndex) === BuiltinOperator.SOFTMAX);
    const pools = g.operators.filter((op) => builtinCode(this.model, op.opcodeIndex) === BuiltinOperator.AVERAGE_POOL_2D);
    if (softmaxes.length !== 1 || !g.outputs.includes(softmaxes[0].outputs[0]))
      throw new TfliteError(`expected exactly one SOFTMAX producing the model output (found ${softmaxes.length}): the logits are its input`);
    if (pools.length !== 1) throw new TfliteError(`expected exactly one AVERAGE_POOL_2D (found ${pools.length}): its output is the embedding`);
    const logitsIdx = softmaxes[0].inputs[0];
    const embIdx = pools[0].outputs[0];
    const logitsT = this.tensor(logitsIdx);
    const embT = this.tensor(embIdx);
    const classes = logitsT.shape[logitsT.shape.length - 1];
    const embeddingSize = embT.shape[embT.shape.length - 1];

    // input (float NCHW, the uint8 values as numbers) -> uint8: scale 1, zero point 0 is the identity on 0..255, saturating outside.
    this.nodes.push(onnxNode('QuantizeLinear', [INPUT, this.floatScalar('one', 1), this.uint8Scalar('zero', 0)], [this.act(inputIdx)]));

    for (const op of g.operators) {
      const code = builtinCode(this.model, op.opcodeIndex);
      if (code === BuiltinOperator.SOFTMAX) continue; // the logits are taken before it
      this.counts[operatorName(code)] = (this.counts[operatorName(code)] ?? 0) + 1;
      const ins = Array.from(op.inputs);
      const outs = Array.from(op.outputs);
      switch (code) {
        case BuiltinOperator.CONV_2D:
          this.conv(ins, outs[0], op.builtinOptions as Conv2DOptionsT, false);
          break;
        case BuiltinOperator.DEPTHWISE_CONV_2D:
          this.conv(ins, outs[0], op.builtinOptions as DepthwiseConv2DOptionsT, true);
          break;
        case BuiltinOperator.ADD:
          this.add(ins, outs[0], op.builtinOptions as AddOptionsT);
          break;
        case BuiltinOperator.AVERAGE_POOL_2D:
          this.avgPool(ins[0], outs[0], op.builtinOptions as Pool2DOptionsT);
          break;
        case BuiltinOperator.FULLY_CONNECTED:
          this.fullyConnected(ins, outs[0], op.builtinOptions as FullyConnectedOptionsT);
          break;
        case BuiltinOperator.RESHAPE:
          this.reshape(ins[0], outs[0]);
          break;
        default:
          throw new TfliteError(`unsupported TFLite operator ${operatorName(code)}`);
      }
    }

    // Float outputs [batch, width]: flatten (NCHW [N,C,1,1] -> [N,C]) then dequantize.
    const logitsQ = quantOf(logitsT, 'the logits');
    const embQ = quantOf(embT, 'the embedding');
    this.floatOutput(logitsIdx, LOGITS, classes);
    this.floatOutput(embIdx, EMBEDDING, embeddingSize);

    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.inits,
      input: [
        onnx.ValueInfoProto.create({
          name: INPUT,
          type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: size }, { dimValue: size }] } } },
        }),
      ],
      output: [
        onnx.ValueInfoProto.create({ name: LOGITS, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: classes }] } } } }),
        onnx.ValueInfoProto.create({ name: EMBEDDING, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: embeddingSize }] } } } }),
      ],
    });
    const onnxModel = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'wildsight tflite-to-onnx',
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET }), onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 })],
      graph,
    });
    return {
      onnx: encodeModel(onnxModel),
      info: {
        input: { name: INPUT, layout: 'NCHW', size, channels: 'RGB', tfliteQuantization: inQ },
        preprocessing: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
        outputs: { logits: LOGITS, embedding: EMBEDDING, embeddingSize, classes },
        logitsQuantization: logitsQ,
        embeddingQuantization: embQ,
        tfliteTensors: { logits: logitsIdx, embedding: embIdx, logitsName: tensorName(logitsT), embeddingName: tensorName(embT) },
        operators: this.counts,
      },
    };
  }

  // --- operators -----------------------------------------------------------

  private conv(ins: number[], out: number, o: Conv2DOptionsT | DepthwiseConv2DOptionsT, depthwise: boolean) {
    const what = depthwise ? 'DEPTHWISE_CONV_2D' : 'CONV_2D';
    const [xIdx, wIdx, bIdx] = ins;
    const x = this.tensor(xIdx),
      w = this.tensor(wIdx),
      y = this.tensor(out);
    this.requireUint8(x, `${what} input`);
    this.requireUint8(w, `${what} weights`);
    this.requireUint8(y, `${what} output`);
    if (x.shape.length !== 4 || w.shape.length !== 4) throw new TfliteError(`${what} "${tensorName(y)}": expected 4-D input and weights`);
    const [, inH, inW, inC] = x.shape;
    const [wO, kH, kW, wI] = w.shape;
    // TFLite weights: CONV_2D [O,KH,KW,I]; DEPTHWISE [1,KH,KW,C*mult]. ONNX: [O,I/group,KH,KW].
    const outC = depthwise ? wI : wO;
    const perGroupIn = depthwise ? 1 : wI;
    if (depthwise && wO !== 1) throw new TfliteError(`${what} "${tensorName(y)}": weights [${w.shape.join(',')}] do not start with 1`);
    if (depthwise && outC !== inC * ((o as DepthwiseConv2DOptionsT).depthMultiplier || 1))
      throw new TfliteError(`${what} "${tensorName(y)}": ${outC} output channels for ${inC} inputs and depth multiplier ${(o as DepthwiseConv2DOptionsT).depthMultiplier}`);
    if (!depthwise && wI !== inC) throw new TfliteError(`${what} "${tensorName(y)}": weights expect ${wI} input channels, the input has ${inC}`);
    const src = bufferBytes(this.model, w);
    const dst = new Uint8Array(src.length);
    for (let oc = 0; oc < outC; oc++)
      for (let ic = 0; ic < perGroupIn; ic++)
        for (let h = 0; h < kH; h++)
          for (let k = 0; k < kW; k++) {
            const from = depthwise ? (h * kW + k) * wI + oc : ((oc * kH + h) * kW + k) * wI + ic;
            dst[((oc * perGroupIn + ic) * kH + h) * kW + k] = src[from];
          }
    const wName = this.uint8Init(`w${wIdx}`, [outC, perGroupIn, kH, kW], dst);
    const strides = [o.strideH, o.strideW];
    const dilations = [o.dilationHFactor || 1, o.dilationWFactor || 1];
    const pads = this.pads(o.padding, [inH, inW], [kH, kW], strides, dilations, `${what} "${tensorName(y)}"`);
    const inputs = [this.act(xIdx), this.scaleOf(xIdx), this.zpOf(xIdx), wName, this.scaleOf(wIdx), this.zpOf(wIdx), this.scaleOf(out), this.zpOf(out)];
    if (bIdx !== undefined && bIdx >= 0) inputs.push(this.biasInit(bIdx, outC, x, w, what));
    this.emitWithActivation('QLinearConv', inputs, out, o.fusedActivationFunction, { group: depthwise ? inC : 1, kernel_shape: [kH, kW], strides, dilations, pads }, '');
  }

  /**
   * ADD in integer arithmetic, as the oracle computes it: LiteRT.js runs
   * TFLite's CPU path through XNNPack, whose uint8 add scales each input by
   * a 21-bit integer multiplier and shifts the sum right, rounding half up
   * (xnn_init_qu8_add_minmax_scalar_params and its microkernels; see
   * addParams). com.microsoft QLinearAdd computes in float32 and now and
   * then rounds an element the other way: one element of one ADD on one bird
   * photo grew to 4 logit steps. TFLite's reference kernel (31-bit
   * multipliers) differed from the oracle on 2 of 432,768 ADD outputs of the
   * ImageNet file, and that grew to 3. int64 ops reproduce XNNPack exactly.
   */
  private add(ins: number[], out: number, o: AddOptionsT) {
    const [a, b] = ins;
    for (const [i, what] of [
      [a, 'ADD input'],
      [b, 'ADD input'],
      [out, 'ADD output'],
    ] as const)
      this.requireUint8(this.tensor(i), what);
    if (this.tensor(a).shape.join() !== this.tensor(b).shape.join())
      throw new TfliteError(`ADD "${tensorName(this.tensor(out))}": broadcasting [${this.tensor(a).shape.join(',')}] + [${this.tensor(b).shape.join(',')}] is not supported`);
    const qa = quantOf(this.tensor(a), 'ADD input'),
      qb = quantOf(this.tensor(b), 'ADD input'),
      qc = quantOf(this.tensor(out), 'ADD output');
    const p = addParams(qa, qb, qc);
    const [lo, hi] = this.activationRange(out, o.fusedActivationFunction);
    const tag = `add${out}`;
    const term = (idx: number, multiplier: number, side: string) =>
      this.op('Mul', [this.op('Cast', [this.act(idx)], `${tag}_${side}_i64`, { to: DataType.INT64 }), this.i64(multiplier)], `${tag}_${side}_scaled`);
    const acc = this.op('Add', [term(a, p.aMultiplier, 'a'), term(b, p.bMultiplier, 'b')], `${tag}_acc`);
    // floor((acc + bias + rounding) / 2^shift) with a truncating Div: lift the dividend by OFFSET (a multiple of 2^shift) so it is never negative.
    const OFFSET = 2 ** 40;
    const lifted = this.op('Add', [acc, this.i64(p.bias + p.rounding + OFFSET)], `${tag}_lifted`);
    const shifted = this.op('Div', [lifted, this.i64(2 ** p.shift)], `${tag}_shifted`);
    const withZp = this.op('Add', [shifted, this.i64(qc.zeroPoint - OFFSET / 2 ** p.shift)], `${tag}_zp`);
    const clamped = this.op('Min', [this.op('Max', [withZp, this.i64(lo)], `${tag}_max`), this.i64(hi)], `${tag}_min`);
    this.nodes.push(onnxNode('Cast', [clamped], [this.act(out)], { to: DataType.UINT8 }));
  }

  private avgPool(xIdx: number, out: number, o: Pool2DOptionsT) {
    const x = this.tensor(xIdx),
      y = this.tensor(out);
    this.requireUint8(x, 'AVERAGE_POOL_2D input');
    this.requireUint8(y, 'AVERAGE_POOL_2D output');
    const [, inH, inW] = x.shape;
    const [, outH, outW] = y.shape;
    const whole = outH === 1 && outW === 1 && o.filterHeight === inH && o.filterWidth === inW;
    if (whole) {
      this.emitWithActivation(
        'QLinearGlobalAveragePool',
        [this.act(xIdx), this.scaleOf(xIdx), this.zpOf(xIdx), this.scaleOf(out), this.zpOf(out)],
        out,
        o.fusedActivationFunction,
        { channels_last: 0 },
        'com.microsoft',
      );
    } else {
      const strides = [o.strideH, o.strideW];
      const kernel = [o.filterHeight, o.filterWidth];
      // TFLite divides by the number of real (unpadded) pixels: count_include_pad = 0.
      const pads = this.pads(o.padding, [inH, inW], kernel, strides, [1, 1], `AVERAGE_POOL_2D "${tensorName(y)}"`);
      this.emitWithActivation(
        'QLinearAveragePool',
        [this.act(xIdx), this.scaleOf(xIdx), this.zpOf(xIdx), this.scaleOf(out), this.zpOf(out)],
        out,
        o.fusedActivationFunction,
        { kernel_shape: kernel, strides, pads, count_include_pad: 0, channels_last: 0 },
        'com.microsoft',
      );
    }
  }

  /** FULLY_CONNECTED as a 1x1 QLinearConv on [N,In,1,1]: it takes the int32 bias exactly as TFLite does, which QLinearMatMul cannot. */
  private fullyConnected(ins: number[], out: number, o: FullyConnectedOptionsT) {
    const [xIdx, wIdx, bIdx] = ins;
    const x = this.tensor(xIdx),
      w = this.tensor(wIdx),
      y = this.tensor(out);
    this.requireUint8(x, 'FULLY_CONNECTED input');
    this.requireUint8(w, 'FULLY_CONNECTED weights');
    this.requireUint8(y, 'FULLY_CONNECTED output');
    if (o.keepNumDims) throw new TfliteError(`FULLY_CONNECTED "${tensorName(y)}": keep_num_dims is not supported`);
    if (w.shape.length !== 2) throw new TfliteError(`FULLY_CONNECTED "${tensorName(y)}": weights must be 2-D, got [${w.shape.join(',')}]`);
    const [outC, inC] = w.shape;
    this.requireFlattenable(x, `FULLY_CONNECTED "${tensorName(y)}"`);
    if (x.shape.reduce((a, b) => a * b, 1) !== inC) throw new TfliteError(`FULLY_CONNECTED "${tensorName(y)}": input [${x.shape.join(',')}] does not hold ${inC} values per image`);
    const as4d = `${this.act(xIdx)}_nc11`;
    this.nodes.push(onnxNode('Reshape', [this.act(xIdx), this.shapeInit(`shape_nc11_${inC}`, [-1, inC, 1, 1])], [as4d]));
    const wName = this.uint8Init(`w${wIdx}`, [outC, inC, 1, 1], bufferBytes(this.model, w));
    const inputs = [as4d, this.scaleOf(xIdx), this.zpOf(xIdx), wName, this.scaleOf(wIdx), this.zpOf(wIdx), this.scaleOf(out), this.zpOf(out)];
    if (bIdx !== undefined && bIdx >= 0) inputs.push(this.biasInit(bIdx, outC, x, w, 'FULLY_CONNECTED'));
    const conv = `${this.act(out)}_nc11`;
    this.emitWithActivation('QLinearConv', inputs, out, o.fusedActivationFunction, { group: 1, kernel_shape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }, '', conv);
    this.nodes.push(onnxNode('Reshape', [conv, this.shapeInit(`shape_n_${outC}`, [-1, outC])], [this.act(out)]));
  }

  /** RESHAPE only where NHWC and NCHW hold the same element order (spatial 1x1), so no transpose is needed. */
  private reshape(xIdx: number, out: number) {
    const x = this.tensor(xIdx),
      y = this.tensor(out);
    this.requireUint8(x, 'RESHAPE input');
    this.requireUint8(y, 'RESHAPE output');
    const qx = quantOf(x, 'RESHAPE input'),
      qy = quantOf(y, 'RESHAPE output');
    if (qx.scale !== qy.scale || qx.zeroPoint !== qy.zeroPoint) throw new TfliteError(`RESHAPE "${tensorName(y)}": input and output quantization differ`);
    this.requireFlattenable(x, `RESHAPE "${tensorName(y)}"`);
    if (!(y.shape.length === 2 || (y.shape.length === 4 && y.shape[1] * y.shape[2] === 1)))
      throw new TfliteError(`RESHAPE "${tensorName(y)}" to [${y.shape.join(',')}]: only reshapes to [N,K] or [N,1,1,K] are supported`);
    const k = y.shape[y.shape.length - 1];
    const target = y.shape.length === 2 ? [-1, k] : [-1, k, 1, 1];
    this.nodes.push(onnxNode('Reshape', [this.act(xIdx), this.shapeInit(`shape_${target.join('_')}`, target)], [this.act(out)]));
    // The output shares the input's quantization, so later operators may read either tensor's parameters.
  }

  // --- helpers ---------------------------------------------------------------

  /**
   * Emits `op` and, where its fused activation clamps more than the uint8
   * range already does, a uint8 Clip to TFLite's bounds: ReLU6 keeps
   * [max(0, q(0)), min(255, q(6))] in the output's quantization, as TFLite's
   * CalculateActivationRangeUint8 does. With the usual output scale 6/255 and
   * zero point 0 that is [0, 255] and no Clip is needed.
   */
  private emitWithActivation(opType: string, inputs: string[], out: number, act: ActivationFunctionType, attrs: Record<string, number | number[]>, domain: string, outName = this.act(out)) {
    const [lo, hi] = this.activationRange(out, act);
    const needsClip = lo > 0 || hi < 255;
    const raw = needsClip ? `${outName}_unclipped` : outName;
    const n = onnxNode(opType, inputs, [raw], attrs);
    if (domain) n.domain = domain;
    this.nodes.push(n);
    if (needsClip) this.nodes.push(onnxNode('Clip', [raw, this.uint8Scalar(`clip_lo_${lo}`, lo), this.uint8Scalar(`clip_hi_${hi}`, hi)], [outName]));
  }

  /** The uint8 range a fused activation leaves, as TFLite's CalculateActivationRangeUint8 (round half away from zero). */
  private activationRange(out: number, act: ActivationFunctionType): [number, number] {
    const q = quantOf(this.tensor(out), 'output');
    const quant = (v: number) => q.zeroPoint + roundHalfAway(v / q.scale);
    switch (act) {
      case ActivationFunctionType.NONE:
        return [0, 255];
      case ActivationFunctionType.RELU:
        return [Math.max(0, quant(0)), 255];
      case ActivationFunctionType.RELU6:
        return [Math.max(0, quant(0)), Math.min(255, quant(6))];
      case ActivationFunctionType.RELU_N1_TO_1:
        return [Math.max(0, quant(-1)), Math.min(255, quant(1))];
      default:
        throw new TfliteError(`fused activation ${ActivationFunctionType[act]} on "${tensorName(this.tensor(out))}" is not supported`);
    }
  }

  /** One node with a fresh output name. */
  private op(opType: string, inputs: string[], name: string, attrs: Record<string, number | number[]> = {}): string {
    this.nodes.push(onnxNode(opType, inputs, [name], attrs));
    return name;
  }

  private i64(v: number): string {
    const name = `i64_${v}`;
    if (!this.initNames.has(name)) this.addInit(onnx.TensorProto.create({ name, dims: [], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(BigInt(v)).buffer) }));
    return name;
  }

  /** TFLite SAME puts the odd pixel of padding at the end, as ONNX SAME_UPPER; written out as explicit pads. */
  private pads(padding: Padding, input: number[], kernel: number[], strides: number[], dilations: number[], what: string): number[] {
    if (padding === Padding.VALID) return [0, 0, 0, 0];
    if (padding !== Padding.SAME) throw new TfliteError(`${what}: padding ${Padding[padding] ?? padding} is not supported`);
    const begin: number[] = [],
      end: number[] = [];
    for (let d = 0; d < 2; d++) {
      const out = Math.ceil(input[d] / strides[d]);
      const total = Math.max((out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input[d], 0);
      begin.push(Math.floor(total / 2));
      end.push(total - Math.floor(total / 2));
    }
    return [...begin, ...end];
  }

  /** The int32 bias; its scale must be input scale x weight scale with zero point 0, which is what QLinearConv assumes. */
  private biasInit(bIdx: number, outC: number, x: TensorT, w: TensorT, what: string): string {
    const b = this.tensor(bIdx);
    if (b.type !== TensorType.INT32) throw new TfliteError(`${what} bias "${tensorName(b)}" is ${TensorType[b.type]}, expected INT32`);
    if (b.shape.length !== 1 || b.shape[0] !== outC) throw new TfliteError(`${what} bias "${tensorName(b)}" has shape [${b.shape.join(',')}], expected [${outC}]`);
    const qb = quantOf(b, `${what} bias`),
      qx = quantOf(x, `${what} input`),
      qw = quantOf(w, `${what} weights`);
    const expected = qx.scale * qw.scale;
    if (qb.zeroPoint !== 0 || Math.abs(qb.scale - expected) > expected * 1e-4)
      throw new TfliteError(`${what} bias "${tensorName(b)}": scale ${qb.scale} / zero point ${qb.zeroPoint}, expected ${expected} / 0`);
    const name = `b${bIdx}`;
    if (!this.initNames.has(name)) {
      const raw = bufferBytes(this.model, b);
      if (raw.length !== outC * 4) throw new TfliteError(`${what} bias "${tensorName(b)}" holds ${raw.length} bytes, expected ${outC * 4}`);
      this.addInit(onnx.TensorProto.create({ name, dims: [outC], dataType: DataType.INT32, rawData: raw }));
    }
    return name;
  }

  private requireUint8(t: TensorT, what: string) {
    if (t.type !== TensorType.UINT8) throw new TfliteError(`${what} "${tensorName(t)}" is ${TensorType[t.type] ?? t.type}; only uint8 tensors are supported`);
    quantOf(t, what);
  }

  private requireFlattenable(t: TensorT, what: string) {
    if (t.shape.length === 4 && t.shape[1] * t.shape[2] !== 1 && t.shape[3] !== 1) throw new TfliteError(`${what}: flattening [${t.shape.join(',')}] would need an NHWC transpose, not supported`);
  }

  /** The ONNX name of a TFLite activation tensor. */
  private act(i: number): string {
    return `t${i}`;
  }

  private scaleOf(i: number): string {
    const name = `t${i}_scale`;
    if (!this.initNames.has(name))
      this.addInit(onnx.TensorProto.create({ name, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(quantOf(this.tensor(i), `tensor ${i}`).scale).buffer) }));
    return name;
  }

  private zpOf(i: number): string {
    const name = `t${i}_zp`;
    if (!this.initNames.has(name)) {
      const zp = quantOf(this.tensor(i), `tensor ${i}`).zeroPoint;
      if (zp < 0 || zp > 255) throw new TfliteError(`tensor "${tensorName(this.tensor(i))}": zero point ${zp} is outside uint8`);
      this.addInit(onnx.TensorProto.create({ name, dims: [], dataType: DataType.UINT8, rawData: Uint8Array.of(zp) }));
    }
    return name;
  }

  private floatScalar(name: string, v: number): string {
    if (!this.initNames.has(name)) this.addInit(onnx.TensorProto.create({ name, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(v).buffer) }));
    return name;
  }

  private uint8Scalar(name: string, v: number): string {
    if (!this.initNames.has(name)) this.addInit(onnx.TensorProto.create({ name, dims: [], dataType: DataType.UINT8, rawData: Uint8Array.of(v) }));
    return name;
  }

  private uint8Init(name: string, dims: number[], data: Uint8Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new TfliteError(`weights ${name}: ${data.length} bytes for shape [${dims.join(',')}]`);
    if (!this.initNames.has(name)) this.addInit(onnx.TensorProto.create({ name, dims, dataType: DataType.UINT8, rawData: data }));
    return name;
  }

  private shapeInit(name: string, shape: number[]): string {
    if (!this.initNames.has(name)) this.addInit(int64Initializer(name, shape));
    return name;
  }

  private floatOutput(idx: number, name: string, width: number) {
    const flat = `${this.act(idx)}_flat`;
    this.nodes.push(onnxNode('Reshape', [this.act(idx), this.shapeInit(`shape_n_${width}`, [-1, width])], [flat]));
    this.nodes.push(onnxNode('DequantizeLinear', [flat, this.scaleOf(idx), this.zpOf(idx)], [name]));
  }

  private addInit(t: Initializer) {
    this.initNames.add(t.name!);
    this.inits.push(t);
  }
}

const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/**
 * XNNPack's uint8 add parameters (xnn_init_qu8_add_minmax_scalar_params):
 * the input-to-output scale ratios in float32, a shift of 20 minus the
 * larger ratio's binary exponent, each ratio times 2^shift rounded to
 * nearest-even (lrintf), and a bias that removes both zero points.
 * out = ((a*aMul + b*bMul + bias + rounding) >> shift) + output zero point.
 */
export function addParams(qa: QuantParams, qb: QuantParams, qc: QuantParams) {
  const aRatio = Math.fround(qa.scale / qc.scale),
    bRatio = Math.fround(qb.scale / qc.scale);
  const bits = new DataView(new ArrayBuffer(4));
  bits.setFloat32(0, Math.max(aRatio, bRatio));
  const exponent = ((bits.getUint32(0) >>> 23) & 0xff) - 127;
  const shift = 20 - exponent;
  if (shift < 12 || shift > 30) throw new TfliteError(`ADD: input/output scale ratios ${aRatio}, ${bRatio} are outside what the uint8 add supports`);
  const aMultiplier = roundHalfEven(aRatio * 2 ** shift),
    bMultiplier = roundHalfEven(bRatio * 2 ** shift);
  return { aMultiplier, bMultiplier, shift, rounding: 2 ** (shift - 1), bias: -(aMultiplier * qa.zeroPoint + bMultiplier * qb.zeroPoint) };
}

/** lrintf in the default rounding mode. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}
