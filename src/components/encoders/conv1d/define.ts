// Catalog entry 'conv1d': nn.Conv1d over the time axis (`weight` [out, in, kernel], optional `bias`, optional zero
// padding), with dropout on its input: MulT's and TFR-Net's per-modality projections. Schema, shape rule and parameter names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { Conv1dEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, type TensorType } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, param, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<Conv1dEncoder>({
  kind: 'encoder',
  type: 'conv1d',
  schema: 'components/encoders/conv1d.schema.json',
  doc: 'Temporal 1-D convolution over a sequence (optional zero padding): MulT\'s projection of each modality to a common width.',
  accepts: ['sequence'],
  outputKind: () => 'sequence',
  reads: (p) => (p.input !== undefined ? [{ name: p.input, path: ['input'] }] : undefined),
  namedOutputs: (p) => (p.max_over_time ? ['max'] : []),
  examples: [
    { label: 'mult text', params: { type: 'conv1d', out: 50, kernel: 5, bias: false, dropout: 0.5 }, inputs: [['text', sequenceType(50, 768)]] },
    { label: 'tetfn text', params: { type: 'conv1d', out: 50, kernel: 1, bias: false, dropout: 0, input: 'encoders.bert', max_over_time: true }, inputs: [['bert', sequenceType(50, 768)]] },
    { label: 'tfr_net audio', params: { type: 'conv1d', out: 30, kernel: 5, padding: 2, bias: false, dropout: 0 }, inputs: [['audio', sequenceType(375, 5)]] },
    { label: 'pointwise with bias', params: { type: 'conv1d', out: 8, kernel: 1, bias: true, dropout: 0 }, inputs: [['audio', sequenceType(20, 5)]] },
  ],
  summary(p) {
    const parts = [`kernel ${p.kernel}`];
    if ((p.padding ?? 0) > 0) parts.push(`padding ${p.padding}`);
    if (!p.bias) parts.push('no bias');
    if (p.dropout > 0) parts.push(`input dropout ${p.dropout}`);
    if (p.max_over_time) parts.push('max over time published as max');
    return `conv1d(${parts.join(', ')}) -> ${p.out}`;
  },
  paramNames: (p) => (p.bias ? ['weight', 'bias'] : ['weight']),
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'conv1d', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const T = input.type.shape[1];
    if (typeof T === 'number' && T + 2 * (p.padding ?? 0) < p.kernel) {
      ctx.report('MSA4004', ctx.spanOf('kernel'), {
        node: ctx.node,
        detail: `kernel ${p.kernel} is longer than the ${T} steps of '${input.name}'${(p.padding ?? 0) > 0 ? ` padded by ${p.padding} at each end` : ''}`,
      }, { hint: `use a kernel of at most ${T + 2 * (p.padding ?? 0)}` });
      return undefined;
    }
    const D = featureDim(input.type);
    const params = [param('weight', [p.out, D, p.kernel])];
    if (p.bias) params.push(param('bias', [p.out]));
    const pad = p.padding ?? 0; // params built by hand (tests, examples) may leave the default out
    const steps = typeof T === 'number' ? T + 2 * pad - p.kernel + 1 : 0;
    // The steps no longer match the modality's true lengths (nor, when the length changes, the other modalities' steps).
    const output: TensorType = { kind: 'sequence', shape: ['B', steps, p.out], dtype: 'float32', aligned: p.kernel === 1 + 2 * pad && input.type.aligned === true };
    return p.max_over_time ? { output, params, features: { max: vector(p.out) } } : { output, params };
  },
});
