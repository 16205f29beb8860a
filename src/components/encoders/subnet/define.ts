// Catalog entry 'subnet': TFN/LMF's SubNet (time-mean pooling, BatchNorm1d, Dropout, three Linear+ReLU layers).
// Schema, shape rule and parameter names (`norm.*`, `linear_1..3.*` as MMSA); phases 2-5.

import { defineComponent } from '../../component.js';
import type { SubnetEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { batchNormNames, batchNormParams, checkDeclaredDim, expectKind, linearNames, linearParams, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<SubnetEncoder>({
  kind: 'encoder',
  type: 'subnet',
  schema: 'components/encoders/subnet.schema.json',
  doc: 'TFN/LMF SubNet: time-mean pooling, BatchNorm, Dropout, then three Linear+ReLU layers.',
  outputKind: () => 'vector',
  accepts: ['sequence', 'vector'],
  examples: [
    { label: 'sequence', params: { type: 'subnet', hidden: 16, dropout: 0.3 }, inputs: [['audio', sequenceType(375, 5)]] },
    { label: 'vector', params: { type: 'subnet', hidden: 128, dropout: 0 }, inputs: [['vision', vector(20)]] },
  ],
  couplesBatch: () => 'its BatchNorm normalises with the batch statistics in training',
  summary: (p) => `subnet(batchnorm${p.dropout > 0 ? `, dropout ${p.dropout}` : ''}, 3 x linear ${p.hidden} relu)`,
  paramNames: () => [...batchNormNames('norm'), ...linearNames('linear_1'), ...linearNames('linear_2'), ...linearNames('linear_3')],
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    // A sequence is time-averaged first (padding included, as MMSA's need_normalized), so both kinds work.
    if (!input || !expectKind(ctx, 'subnet', input, ['sequence', 'vector'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const d = featureDim(input.type);
    const params = [
      ...batchNormParams('norm', d),
      ...linearParams('linear_1', d, p.hidden),
      ...linearParams('linear_2', p.hidden, p.hidden),
      ...linearParams('linear_3', p.hidden, p.hidden),
    ];
    return { output: vector(p.hidden), params };
  },
});
