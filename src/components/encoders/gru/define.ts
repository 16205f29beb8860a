// Catalog entry 'gru': a GRU over a sequence, final hidden state, optional Linear (PyTorch nn.GRU names).
// Schema, shape rule and parameter names; phases 2-5.

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
  summary: summarizeRnnEncoder,
  paramNames: rnnEncoderNames,
  // nn.GRU stacks three gates (reset, update, new), so its matrices are 3H tall.
  infer: (ctx) => inferRnnEncoder(ctx, 3),
});
