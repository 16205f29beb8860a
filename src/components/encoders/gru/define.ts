// Catalog entry 'gru': a GRU over a sequence, final hidden state, optional Linear (PyTorch nn.GRU names).
// Schema, shape rule and parameter names; phases 2-5.

import { sequenceType } from '../../shape-helpers.js';
import { defineComponent } from '../../component.js';
import type { GruEncoder } from '../../../compiler/spec/types.generated.js';
import { defaultPacking, inferRnnEncoder, rnnEncoderNames, summarizeRnnEncoder } from '../lstm/define.js';

export default defineComponent<GruEncoder>({
  kind: 'encoder',
  type: 'gru',
  schema: 'components/encoders/gru.schema.json',
  doc: 'GRU over a sequence; the final hidden state, optionally projected.',
  accepts: ['sequence'],
  outputKind: () => 'vector',
  packsLengths: (p) => p.packed === true,
  defaults: defaultPacking,
  examples: [
    { label: 'uni, projected', params: { type: 'gru', modality: 'x', hidden: 8, layers: 2, dropout: 0, bidirectional: false, out: 4 }, inputs: [['audio', sequenceType(20, 5)]] },
    { label: 'bi, no projection', params: { type: 'gru', hidden: 8, layers: 2, dropout: 0.1, bidirectional: true, out: null }, inputs: [['audio', sequenceType(20, 5)]] },
  ],
  summary: summarizeRnnEncoder,
  paramNames: rnnEncoderNames,
  // nn.GRU stacks three gates (reset, update, new), so its matrices are 3H tall.
  infer: (ctx) => inferRnnEncoder(ctx, 3),
});
