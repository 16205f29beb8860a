// Catalog entry 'misa_lstm': MISA's audio/vision utterance encoder (models/singleTask/MISA.py extract_features): two
// bidirectional LSTMs with a LayerNorm between, packed by lengths, optionally the text token counts. Phases 2-5.

import { defineComponent } from '../../component.js';
import type { MisaLstmEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, param, rnnNames, rnnParams, sequenceType, tokenIds, vector } from '../../shape-helpers.js';

export function misaLstmNames(): string[] {
  return [...rnnNames('rnn1', 1, true), 'layer_norm.weight', 'layer_norm.bias', ...rnnNames('rnn2', 1, true)];
}

export default defineComponent<MisaLstmEncoder>({
  kind: 'encoder',
  type: 'misa_lstm',
  schema: 'components/encoders/misa_lstm.schema.json',
  doc: "MISA's audio/vision utterance encoder: bidirectional LSTM, LayerNorm, bidirectional LSTM, packed by lengths (MMSA: the text token counts); the four final states.",
  accepts: ['sequence'],
  arity: { min: 1, max: 2 },
  outputKind: () => 'vector',
  // Its own modality first, then the token rows whose mask gives the lengths.
  reads: (p, key) =>
    p.lengths_from === null ? undefined : [{ name: `modalities.${p.modality ?? key}`, path: p.modality ? ['modality'] : [] }, { name: p.lengths_from, path: ['lengths_from'] }],
  examples: [
    { label: 'misa vision', params: { type: 'misa_lstm', hidden: null, lengths_from: 'modalities.text' }, inputs: [['vision', sequenceType(50, 20)], ['text', tokenIds(50)]] },
    { label: 'own lengths', params: { type: 'misa_lstm', hidden: 4, lengths_from: null }, inputs: [['audio', sequenceType(50, 5, { lengths: 'audio_lengths' })]] },
  ],
  summary: (p) => `misa_lstm(bi-lstm, layer norm, bi-lstm${p.hidden !== null ? `, hidden ${p.hidden}` : ''}; packed by ${p.lengths_from === null ? 'own lengths' : `${p.lengths_from} token counts`})`,
  paramNames: misaLstmNames,
  infer(ctx) {
    const p = ctx.params;
    const [input, tokens] = ctx.inputs;
    if (!input || !expectKind(ctx, 'misa_lstm', input, ['sequence'])) return undefined;
    if (p.lengths_from !== null && (!tokens || !expectKind(ctx, 'misa_lstm', tokens, ['tokens']))) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const d = featureDim(input.type);
    const h = p.hidden ?? d;
    const params = [
      ...rnnParams('rnn1', { gates: 4, inSize: d, hidden: h, layers: 1, bidirectional: true }),
      param('layer_norm.weight', [2 * h]),
      param('layer_norm.bias', [2 * h]),
      ...rnnParams('rnn2', { gates: 4, inSize: 2 * h, hidden: h, layers: 1, bidirectional: true }),
    ];
    return { output: vector(4 * h), params };
  },
});
