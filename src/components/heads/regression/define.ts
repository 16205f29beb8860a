// Catalog entry 'regression': an MLP head to one value per sample (`layers.{i}`, `out`), optionally squashed into
// an output range (TFN) or a passthrough (LMF). Schema, shape rule and parameter names; phases 2-5.

import { defineComponent, type ShapeContext, type ShapeResult } from '../../component.js';
import type { ClassificationHead, RegressionHead } from '../../../compiler/spec/types.generated.js';
import { featureDim, type TensorType } from '../../../compiler/ir/types.js';
import { batchNormNames, batchNormParams, buffer, checkDeclaredDim, expectKind, linearNames, linearParams, mlpNames, mlpParams, singleInput, vector } from '../../shape-helpers.js';

type MlpHead = RegressionHead | ClassificationHead;

/** MulT's residual block (regression heads only): x + proj2(dropout(act(proj1(x)))) before `out`. */
export function hasResidual(p: MlpHead): boolean {
  return 'residual' in p && p.residual === true;
}

export function summarizeHeadLayers(p: MlpHead, out: string): string {
  if (p.passthrough) return `${p.type}(passthrough) -> ${out}`;
  if (hasResidual(p)) return `${p.type}(residual block${p.dropout > 0 ? `, dropout ${p.dropout}` : ''}, ${p.activation}) -> ${out}`;
  const parts: string[] = [];
  if ('batch_norm' in p && p.batch_norm) parts.push('batch norm');
  if (p.dropout > 0) parts.push(`dropout ${p.dropout}${p.dropout_each && p.hidden.length > 0 ? ' each' : p.dropout_last && p.hidden.length > 0 ? ' last' : ''}`);
  for (const h of p.hidden) parts.push(`${h} ${p.activation}`);
  return `${p.type}(${parts.length > 0 ? parts.join(', ') : 'linear'}) -> ${out}`;
}

/** The first hidden activation is published as `hidden0` (Self-MM's Feature_m), when the head has one. */
export function headOutputs(p: MlpHead): string[] {
  return !p.passthrough && p.hidden.length > 0 ? ['hidden0'] : [];
}

export function headNames(p: MlpHead): string[] {
  if (p.passthrough) return [];
  return [...(hasResidual(p) ? [...linearNames('proj1'), ...linearNames('proj2')] : []), ...mlpNames(p.hidden)];
}

/**
 * Shared by regression and classification heads: the input must be a vector; `passthrough` has no layers, so its
 * input already is the output and must have `out` features (MSA4008).
 */
export function inferMlpHead(ctx: ShapeContext<MlpHead>, out: number, output: TensorType): ShapeResult | undefined {
  const p = ctx.params;
  const input = singleInput(ctx);
  if (!input || !expectKind(ctx, p.type, input, ['vector'])) return undefined;
  checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
  const d = featureDim(input.type);
  if (p.passthrough) {
    if (p.hidden.length > 0) {
      ctx.report('MSA4004', ctx.spanOf('hidden'), {
        node: ctx.node,
        detail: `a passthrough head has no layers, but 'hidden' lists ${p.hidden.length}`,
      }, { hint: 'remove `hidden`, or set `passthrough: false`' });
    }
    if (d !== out) {
      ctx.report(
        'MSA4008',
        ctx.spanOf('passthrough'),
        { node: ctx.node, out, actual: d },
        { related: [{ span: input.span, message: `'${input.name}' gives ${d} features` }] },
      );
    }
    return { output, params: [] };
  }
  if (hasResidual(p) && p.hidden.length > 0) {
    ctx.report('MSA4004', ctx.spanOf('hidden'), {
      node: ctx.node,
      detail: `a residual head has no hidden layers, but 'hidden' lists ${p.hidden.length}`,
    }, { hint: 'remove `hidden`, or set `residual: false`' });
  }
  const block = hasResidual(p) ? [...linearParams('proj1', d, d), ...linearParams('proj2', d, d)] : [];
  const result: ShapeResult = { output, params: [...block, ...mlpParams(d, p.hidden, out)] };
  // The first hidden activation is Self-MM's Feature_m, which ULGM stores and measures against class centres.
  const h0 = p.hidden[0];
  if (h0 !== undefined) result.features = { hidden0: vector(h0) };
  return result;
}

export default defineComponent<RegressionHead>({
  kind: 'head',
  type: 'regression',
  schema: 'components/heads/regression.schema.json',
  doc: 'Regression head: an MLP to one value per sample.',
  accepts: ['vector'],
  predicts: 'regression',
  namedOutputs: headOutputs,
  examples: [
    { label: 'self-mm', params: { type: 'regression', input: 'fusion', hidden: [128, 128], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null }, inputs: [['fusion', vector(816)]] },
    { label: 'tfn range', params: { type: 'regression', input: 'fusion', hidden: [64, 64], dropout: 0.5, dropout_each: false, activation: 'relu', passthrough: false, output_range: [-3, 3] }, inputs: [['fusion', vector(140481)]] },
    { label: 'lmf passthrough', params: { type: 'regression', input: 'fusion', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: true, output_range: null }, inputs: [['fusion', vector(1)]] },
    { label: 'no hidden', params: { type: 'regression', input: 'text', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null }, inputs: [['text', vector(32)]] },
    { label: 'tfr_net classifier', params: { type: 'regression', input: 'fusion', hidden: [16], dropout: 0.1, dropout_last: true, dropout_each: false, activation: 'leaky_relu', batch_norm: true, passthrough: false, output_range: null }, inputs: [['fusion', vector(12)]] },
    { label: 'mult residual', params: { type: 'regression', input: 'fusion', hidden: [], dropout: 0.5, dropout_each: false, activation: 'relu', passthrough: false, residual: true, output_range: null }, inputs: [['fusion', vector(300)]] },
  ],
  couplesBatch: (p) => ('batch_norm' in p && p.batch_norm && !p.passthrough ? 'its BatchNorm normalises with the batch statistics in training' : undefined),
  summary(p) {
    const range = p.output_range ? ` -> sigmoid to [${p.output_range.join(', ')}]` : '';
    return summarizeHeadLayers(p, '1') + range;
  },
  paramNames: (p) => [...(p.batch_norm && !p.passthrough ? batchNormNames('norm') : []), ...headNames(p), ...(p.output_range ? ['output_range.scale', 'output_range.shift'] : [])],
  infer(ctx) {
    const p = ctx.params;
    const res = inferMlpHead(ctx, 1, { kind: 'value', shape: ['B', 1], dtype: 'float32' });
    if (!res) return undefined;
    if (p.batch_norm && !p.passthrough) res.params.unshift(...batchNormParams('norm', featureDim(ctx.inputs[0]!.type)));
    if (p.output_range) {
      const [lo, hi] = p.output_range;
      if (lo === undefined || hi === undefined || !(lo < hi)) {
        ctx.report('MSA4004', ctx.spanOf('output_range'), {
          node: ctx.node,
          detail: `output_range must be [lo, hi] with lo < hi, got [${p.output_range.join(', ')}]`,
        });
      }
      // sigmoid(y) * (hi - lo) + lo; TFN registers these as frozen parameters, here they are constant buffers.
      res.params.push(buffer('output_range.scale', [1]), buffer('output_range.shift', [1]));
    }
    return res;
  },
});
