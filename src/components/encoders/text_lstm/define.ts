// Catalog entry 'text_lstm': TFN/LMF's TextSubNet (1-layer LSTM over the whole padded sequence, h_n, Dropout,
// Linear). Schema, shape rule and parameter names (`rnn.*`, `linear_1.*` as MMSA); phases 2-5.

import { defineComponent } from '../../component.js';
import type { TextLstmEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, linearNames, linearParams, rnnNames, rnnParams, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<TextLstmEncoder>({
  kind: 'encoder',
  type: 'text_lstm',
  schema: 'components/encoders/text_lstm.schema.json',
  doc: 'TFN/LMF TextSubNet: an LSTM over the whole padded sequence, final hidden state, Dropout, Linear.',
  outputKind: () => 'vector',
  accepts: ['sequence'],
  examples: [{ label: 'tfn text', params: { type: 'text_lstm', hidden: 128, out: 32, dropout: 0.3 }, inputs: [['text', sequenceType(50, 768)]] }],
  summary: (p) => `text_lstm(hidden ${p.hidden}, padded${p.dropout > 0 ? `, dropout ${p.dropout}` : ''}) -> linear ${p.out}`,
  paramNames: () => [...rnnNames('rnn', 1, false), ...linearNames('linear_1')],
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'text_lstm', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const params = [
      ...rnnParams('rnn', { gates: 4, inSize: featureDim(input.type), hidden: p.hidden, layers: 1, bidirectional: false }),
      ...linearParams('linear_1', p.hidden, p.out),
    ];
    return { output: vector(p.out), params };
  },
});
