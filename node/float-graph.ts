/**
 * Rewrites a QOperator int8 graph (QLinearConv, QLinearMatMul, QLinearAdd,
 * QLinearGlobalAveragePool between a QuantizeLinear on the input and
 * DequantizeLinear on the outputs) so that its activations are float and
 * onnxruntime runs float kernels, with the same weights stored one of three
 * ways:
 *   - 'int8':  the int8/uint8 weights as they are, each behind a
 *              DequantizeLinear (its scale and zero point, per channel) into
 *              the float Conv/MatMul: "weight-only int8";
 *   - 'int8-cast': the same int8/uint8 weights, dequantized by plain float
 *              ops instead: Cast to float, minus the zero point, times the
 *              scale (per channel, broadcast). onnxruntime's constant folding
 *              skips DequantizeLinear (to keep QDQ graphs fusable), so the
 *              'int8' form dequantizes every weight on every run; these ops
 *              it folds once at load, leaving the float32 graph;
 *   - 'fp16':  the dequantized weights as float16 initializers behind a Cast
 *              to float;
 *   - 'fp32':  the dequantized weights as float32 initializers.
 * Biases are always float32 (value = int32 bias x input scale x weight scale):
 * they are 0.5% of the weights and rounding them would buy nothing.
 *
 * Why: onnxruntime-web's WASM int8 kernels are much slower than its float
 * ones (issue #14). The QDQ rewrite (qdq-graph.ts) keeps each activation
 * rounded to its int8 grid; here activations are not rounded at all.
 *
 * What the int8 graph did implicitly is kept explicitly: its ReLU6 layers
 * were folded into the output quantization (an output zero point at the
 * type's minimum means nothing below 0 is representable, and nothing above
 * (qmax - zp) x scale), so such a QLinearConv becomes Conv + Clip(0, that
 * top), which onnxruntime fuses into one Conv. Outputs whose zero point is
 * inside the range (the linear bottlenecks, the residual Adds, the logits)
 * had no activation function and get no Clip.
 *
 * Tensor names are kept: a quantized activation's name now holds its float
 * value, so nodes the rewrite does not touch (the head's Gather, Reshape,
 * Concat) are wired as before.
 */
import { DataType, floatInitializer, node, onnx, tensorValues, type ModelProto } from './onnx-graph.ts';
import { assertChannelsFirst, assertPassThrough, OPSET, opset13Unsqueeze, rewriteState } from './qop-rewrite.ts';
import { float16Bytes } from '../core/float16.ts';

export type WeightStorage = 'int8' | 'int8-cast' | 'fp16' | 'fp32';

export interface FloatReport {
  /** How many of each quantized op were rewritten. */
  rewritten: Record<string, number>;
  /** Conv outputs that got a Clip (the folded ReLU6 layers). */
  clipped: number;
}

export function toFloatActivations(model: ModelProto, storage: WeightStorage): FloatReport {
  // Opset 13 (qop-rewrite.ts) for every variant, so they differ only in their weights.
  const { g, inits, out, extra, rewritten } = rewriteState(model);
  let clipped = 0;
  /** A quantized tensor's name → the name of its float value, where they differ (the graph input). */
  const alias = new Map<string, string>();
  const f = (name: string) => alias.get(name) ?? name;
  const need = (name: string) => {
    const t = inits.get(name);
    if (!t) throw new Error(`initializer ${name} not found`);
    return t;
  };
  const values = (name: string) => tensorValues(need(name));

  /** Dequantized values of a constant: (q - zp[c]) * scale[c], c along `axis` when scale is per channel. */
  const dequantize = (q: string, scale: string, zp: string | null, axis: number) => {
    const t = need(q);
    const dims = (t.dims ?? []).map(Number);
    const qv = values(q);
    const s = values(scale);
    const z = zp ? values(zp) : new Float64Array(s.length);
    const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
    const channels = s.length > 1 ? dims[axis] : 1;
    const outv = new Float32Array(qv.length);
    for (let i = 0; i < qv.length; i++) {
      const c = channels > 1 ? Math.floor(i / inner) % channels : 0;
      outv[i] = (qv[i] - z[c]) * s[c];
    }
    return { dims, values: outv };
  };

  /** The float weight of a Conv or MatMul, stored as `storage` says. */
  const weight = (q: string, scale: string, zp: string, axis: number) => {
    if (storage === 'int8') {
      const perChannel = values(scale).length > 1;
      const name = `${q}__dq`;
      out.push(node('DequantizeLinear', [q, scale, zp], [name], perChannel ? { axis } : {}));
      return name;
    }
    if (storage === 'int8-cast') {
      const t = need(q);
      const rank = (t.dims ?? []).length;
      const s = values(scale);
      const z = values(zp);
      // Per-channel scale and zero point shaped to broadcast along `axis` (e.g. [C,1,1,1] for a Conv weight).
      const shape = s.length > 1 ? Array.from({ length: rank }, (_, i) => (i === axis ? s.length : 1)) : [];
      out.push(node('Cast', [q], [`${q}__cast`], { to: DataType.FLOAT }));
      let centred = `${q}__cast`;
      if (z.some((v) => v !== 0)) {
        out.push(node('Sub', [centred, constant(`${q}__zp_f32`, shape, Float32Array.from(z))], [`${q}__centred`]));
        centred = `${q}__centred`;
      }
      out.push(node('Mul', [centred, constant(`${q}__scale_f32`, shape, Float32Array.from(s))], [`${q}__f32`]));
      return `${q}__f32`;
    }
    const { dims, values: w } = dequantize(q, scale, zp, axis);
    if (storage === 'fp32') {
      extra.push(floatInitializer(`${q}__f32`, dims, w));
      return `${q}__f32`;
    }
    extra.push(onnx.TensorProto.create({ name: `${q}__f16`, dims, dataType: DataType.FLOAT16, rawData: float16Bytes(w) }));
    out.push(node('Cast', [`${q}__f16`], [`${q}__f32`], { to: DataType.FLOAT }));
    return `${q}__f32`;
  };

  /** A small float32 constant (a bias, an Add's constant operand). */
  const constant = (name: string, dims: readonly number[], v: Float32Array | readonly number[]) => {
    extra.push(floatInitializer(name, dims, v));
    return name;
  };

  /** Clip(0, top) when the output's zero point sits at its type's minimum: a ReLU(6) the int8 graph folded in. */
  const activation = (raw: string, output: string, scale: string, zp: string) => {
    const z = need(zp);
    const qmin = z.dataType === DataType.UINT8 ? 0 : -128;
    const qmax = z.dataType === DataType.UINT8 ? 255 : 127;
    const zv = values(zp)[0];
    if (zv !== qmin) return false;
    const top = (qmax - zv) * values(scale)[0];
    out.push(node('Clip', [raw, constant(`${output}__min`, [], [0]), constant(`${output}__max`, [], [top])], [output]));
    clipped++;
    return true;
  };

  for (const n of g.node) {
    const ins = n.input;
    const o = n.output[0];
    switch (n.opType) {
      case 'QuantizeLinear':
        if (inits.has(ins[0])) throw new Error(`QuantizeLinear of a constant (${ins[0]}) is not expected`);
        alias.set(o, f(ins[0]));
        break;
      case 'DequantizeLinear':
        if (inits.has(ins[0])) throw new Error(`DequantizeLinear of a constant (${ins[0]}) is not expected in a QOperator graph`);
        out.push(node('Identity', [f(ins[0])], [o]));
        break;
      case 'QLinearConv': {
        // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias (int32 in units of x_scale * w_scale)
        const [x, xs, , w, ws, wz, ys, yz, b] = ins;
        const inputs = [f(x), weight(w, ws, wz, 0)];
        if (b) {
          const xScale = values(xs)[0];
          const wScale = values(ws);
          const bias = Float32Array.from(values(b), (v, i) => v * xScale * wScale[wScale.length > 1 ? i : 0]);
          inputs.push(constant(`${b}__f32`, [bias.length], bias));
        }
        const raw = `${o}__conv`;
        const conv = node('Conv', inputs, [raw]);
        conv.attribute = n.attribute ?? [];
        out.push(conv);
        if (!activation(raw, o, ys, yz)) conv.output = [o];
        break;
      }
      case 'QLinearMatMul': {
        // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp; the weight's per-column scales are along axis 1
        const [a, , , b, bs, bz] = ins;
        if (!inits.has(b)) throw new Error(`QLinearMatMul ${n.name}: only a constant second operand is supported`);
        out.push(node('MatMul', [f(a), weight(b, bs, bz, 1)], [o]));
        break;
      }
      case 'QLinearAdd': {
        // a, a_scale, a_zp, b, b_scale, b_zp, c_scale, c_zp
        const operand = (q: string, s: string, z: string) => {
          if (!inits.has(q)) return f(q);
          const { dims, values: v } = dequantize(q, s, z, 0);
          return constant(`${q}__f32`, dims, v);
        };
        out.push(node('Add', [operand(ins[0], ins[1], ins[2]), operand(ins[3], ins[4], ins[5])], [o]));
        break;
      }
      case 'QLinearGlobalAveragePool': {
        assertChannelsFirst(n);
        out.push(node('GlobalAveragePool', [f(ins[0])], [o]));
        break;
      }
      case 'Unsqueeze':
        out.push(opset13Unsqueeze(n, f(ins[0]), extra) ?? { ...n, input: ins.map(f) });
        continue;
      default:
        assertPassThrough(n, 'float');
        if (n.opType!.startsWith('QLinear') || n.opType === 'ConvInteger' || n.opType === 'MatMulInteger') throw new Error(`${n.opType} has no float rewrite`);
        n.input = ins.map(f);
        out.push(n);
        continue;
    }
    rewritten[n.opType] = (rewritten[n.opType] ?? 0) + 1;
  }
  g.node = out;
  // Drop what no node reads any more (the quantized weights of the float variants, the activations' scales).
  const used = new Set(out.flatMap((n) => n.input));
  g.initializer = [...g.initializer, ...extra].filter((t) => used.has(t.name!));
  g.valueInfo = [];
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })];
  return { rewritten, clipped };
}
