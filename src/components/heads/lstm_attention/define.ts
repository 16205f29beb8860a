// Catalog entry 'lstm_attention': MCTN's Regression module (`rnn`, `linear`, `linear2`): LSTM over a sequence,
// attention pooling over time, one value per sample. Schema, shape rule and parameter names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { LstmAttentionHead } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, linearParams, rnnParams, sequenceType, singleInput } from '../../shape-helpers.js';

function headParams(H: number) {
  return [...rnnParams('rnn', { gates: 4, inSize: H, hidden: H, layers: 1, bidirectional: false }), ...linearParams('linear', H, 1), ...linearParams('linear2', H, 1)];
}

export default defineComponent<LstmAttentionHead>({
  kind: 'head',
  type: 'lstm_attention',
  schema: 'components/heads/lstm_attention.schema.json',
  doc: "MCTN's regression head: an LSTM over a sequence, attention pooling over time (softmax of tanh(Linear)), Linear to one value.",
  accepts: ['sequence'],
  predicts: 'regression',
  examples: [{ label: 'mctn', params: { type: 'lstm_attention', input: 'fusion', batch_as_time: false }, inputs: [['fusion', sequenceType(50, 32, { aligned: true })]] }],
  couplesBatch: (p) => (p.batch_as_time ? 'batch_as_time runs its LSTM along the batch axis' : undefined),
  summary: (p) => `lstm_attention(lstm, attention over time${p.batch_as_time ? ', lstm along the batch axis (MMSA)' : ''}) -> 1`,
  paramNames: () => headParams(1).map((x) => x.name),
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, p.type, input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    return { output: { kind: 'value', shape: ['B', 1], dtype: 'float32' }, params: headParams(featureDim(input.type)) };
  },
});
