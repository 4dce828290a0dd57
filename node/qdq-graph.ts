/**
 * Rewrites a QOperator-format int8 ONNX graph (QLinearConv, QLinearAdd,
 * QLinearMatMul, QLinearGlobalAveragePool) in QDQ format: each quantized
 * op becomes DequantizeLinear on its inputs, the plain float op, and
 * QuantizeLinear on its output, with the same int8 weights, scales and zero
 * points. Both formats describe the same computation, so the file keeps its
 * size and its answers; what changes is what a runtime can do with it.
 *
 * Why: onnxruntime fuses a QDQ graph back into its int8 kernels by default
 * (native x86 runs those fastest), but with the session config
 * `session.disable_quant_qdq` it folds the weights to float once at load
 * and runs float kernels, rounding each activation to its int8 grid as the
 * int8 graph does. onnxruntime-web's WASM float kernels are much faster than
 * its int8 ones, and the answers stay those of the int8 graph.
 */
import { floatInitializer, node, onnx, tensorValues, type ModelProto } from './onnx-graph.ts';
import { assertChannelsFirst, assertPassThrough, OPSET, opset13Unsqueeze, rewriteState, type ITensorProto } from './qop-rewrite.ts';

export interface QdqReport {
  /** How many of each QOperator op were rewritten. */
  rewritten: Record<string, number>;
}

export function toQdq(model: ModelProto): QdqReport {
  const { g, inits, out, extra, rewritten } = rewriteState(model);
  const dequantized = new Map<string, string>();

  /** The float value of a quantized tensor (activation or constant), one DequantizeLinear per tensor. */
  const dq = (name: string, scale: string, zeroPoint: string | null, axis?: number) => {
    const key = `${name}|${scale}|${zeroPoint}`;
    const known = dequantized.get(key);
    if (known) return known;
    const f = `${name}__dq`;
    const n = node('DequantizeLinear', zeroPoint ? [name, scale, zeroPoint] : [name, scale], [f], axis === undefined ? {} : { axis });
    out.push(n);
    dequantized.set(key, f);
    return f;
  };
  const q = (raw: string, output: string, scale: string, zeroPoint: string) => out.push(node('QuantizeLinear', [raw, scale, zeroPoint], [output]));
  const perAxis = (name: string) => (need(inits, name).dims ?? []).length > 0 && Number(need(inits, name).dims![0]) > 1;

  for (const n of g.node) {
    const [a, b, c, d, e, f, gIn, h, i] = n.input;
    const o = n.output[0];
    const raw = `${o}__float`;
    switch (n.opType) {
      case 'QLinearConv': {
        // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias (int32 in units of x_scale * w_scale)
        const inputs = [dq(a, b, c), dq(d, e, f, perAxis(e) ? 0 : undefined)];
        if (i) {
          const biasScale = `${i}__scale`;
          const xs = tensorValues(need(inits, b));
          const ws = tensorValues(need(inits, e));
          extra.push(
            floatInitializer(
              biasScale,
              ws.length > 1 ? [ws.length] : [],
              Array.from(ws, (s) => s * xs[0]),
            ),
          );
          inputs.push(dq(i, biasScale, null, ws.length > 1 ? 0 : undefined));
        }
        const conv = node('Conv', inputs, [raw]);
        conv.attribute = n.attribute ?? [];
        out.push(conv);
        q(raw, o, gIn, h);
        break;
      }
      case 'QLinearAdd':
        // a, a_scale, a_zp, b, b_scale, b_zp, c_scale, c_zp
        out.push(node('Add', [dq(a, b, c), dq(d, e, f)], [raw]));
        q(raw, o, gIn, h);
        break;
      case 'QLinearMatMul': {
        // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp; per-column scales of b are along axis 1
        out.push(node('MatMul', [dq(a, b, c), dq(d, e, f, perAxis(e) ? 1 : undefined)], [raw]));
        q(raw, o, gIn, h);
        break;
      }
      case 'QLinearGlobalAveragePool': {
        // x, x_scale, x_zp, y_scale, y_zp
        assertChannelsFirst(n);
        out.push(node('GlobalAveragePool', [dq(a, b, c)], [raw]));
        q(raw, o, d, e);
        break;
      }
      case 'Unsqueeze':
        out.push(opset13Unsqueeze(n, a, extra) ?? n);
        continue;
      default:
        assertPassThrough(n, 'QDQ');
        out.push(n);
        continue;
    }
    rewritten[n.opType] = (rewritten[n.opType] ?? 0) + 1;
  }
  g.node = out;
  g.initializer = [...g.initializer, ...extra];
  g.valueInfo = [];
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })];
  return { rewritten };
}

function need(inits: Map<string, ITensorProto>, name: string): ITensorProto {
  const t = inits.get(name);
  if (!t) throw new Error(`initializer ${name} not found`);
  return t;
}
