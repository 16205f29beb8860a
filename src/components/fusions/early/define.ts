// Catalog entry 'early': EF-LSTM's early fusion (per-step concatenation of aligned sequences, BatchNorm1d over the
// time steps, LSTM, final hidden state). Schema, shape rule and parameter names (`norm.*`, `lstm.*`); phases 2-5.

import { defineComponent } from '../../component.js';
import type { EarlyFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl } from '../../../compiler/ir/types.js';
import { batchNormNames, batchNormParams, checkFusionInputs, rnnNames, rnnParams, sequenceType, vector } from '../../shape-helpers.js';

export default defineComponent<EarlyFusion>({
  kind: 'fusion',
  type: 'early',
  schema: 'components/fusions/early.schema.json',
  doc: 'EF-LSTM early fusion: per-time-step concatenation of aligned sequences, BatchNorm over time steps, LSTM.',
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  needsAligned: true,
  examples: [
    { label: 'ef-lstm', params: { type: 'early', inputs: ['text', 'audio', 'vision'], hidden: 128, layers: 4, dropout: 0.5, batchnorm: true }, inputs: [['text', sequenceType(50, 768, { aligned: true })], ['audio', sequenceType(50, 5, { aligned: true })], ['vision', sequenceType(50, 20, { aligned: true })]] },
    { label: 'no batchnorm', params: { type: 'early', inputs: ['a', 'b'], hidden: 8, layers: 1, dropout: 0, batchnorm: false }, inputs: [['a', sequenceType(10, 3, { aligned: true })], ['b', sequenceType(10, 4, { aligned: true })]] },
  ],
  couplesBatch: (p) => (p.batchnorm ? 'its BatchNorm normalises with the batch statistics in training' : undefined),
  summary(p) {
    const parts = [`hidden ${p.hidden}`, `layers ${p.layers}`];
    if (p.dropout > 0) parts.push(`dropout ${p.dropout}`);
    return `early(${p.inputs.join(', ')}${p.batchnorm ? '; batchnorm over time' : ''}) -> lstm(${parts.join(', ')})`;
  },
  paramNames: (p) => [...(p.batchnorm ? batchNormNames('norm') : []), ...rnnNames('lstm', p.layers, false)],
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'early', ['sequence'], { kindCode: 'MSA4002' })) return undefined;
    const first = ctx.inputs[0];
    if (!first) return undefined;
    const T = first.type.shape[1];
    for (const other of ctx.inputs.slice(1)) {
      const To = other.type.shape[1];
      if (typeof T === 'number' && typeof To === 'number' && To !== T) {
        ctx.report(
          'MSA4003',
          other.span,
          { node: ctx.node, a: `'${first.name}'`, la: T, b: `'${other.name}'`, lb: To },
          { related: [{ span: first.span, message: `'${first.name}' has ${T} steps` }] },
        );
      }
    }
    const D = ctx.inputs.reduce((s, i) => s + featureDim(i.type), 0);
    const params: ParamDecl[] = [];
    // MMSA's BatchNorm1d(L) sees B x L x D, so the time steps are its channels.
    if (p.batchnorm) params.push(...batchNormParams('norm', typeof T === 'number' ? T : 0));
    params.push(...rnnParams('lstm', { gates: 4, inSize: D, hidden: p.hidden, layers: p.layers, bidirectional: false }));
    return { output: vector(p.hidden), params };
  },
});
