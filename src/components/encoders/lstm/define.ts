// Catalog entry 'lstm': Self-MM's AuViSubNet (LSTM over a sequence, packed by true lengths, final hidden state,
// optional Linear). Schema, shape rule and parameter names; phases 2-5.

import { defineComponent, type DefaultsContext, type ShapeContext, type ShapeResult } from '../../component.js';
import type { GruEncoder, LstmEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, linearNames, linearParams, rnnNames, rnnParams, sequenceType, singleInput, vector } from '../../shape-helpers.js';

type RnnEncoder = LstmEncoder | GruEncoder;

/** Shared by lstm and gru: they differ only in gate count and the module's name. */
export function summarizeRnnEncoder(p: RnnEncoder): string {
  const parts = [`hidden ${p.hidden}`, `layers ${p.layers}`];
  if (p.bidirectional) parts.push('bidirectional');
  if (p.dropout > 0) parts.push(`dropout ${p.dropout}`);
  if (p.packed === true) parts.push('packed');
  else if (p.packed === false) parts.push('padded');
  const rnn = `${p.type}(${parts.join(', ')})`;
  return p.out === null ? rnn : `${rnn} -> linear ${p.out}`;
}

export function rnnEncoderNames(p: RnnEncoder): string[] {
  const names = rnnNames(p.type, p.layers, p.bidirectional);
  return p.out === null ? names : [...names, ...linearNames('linear')];
}

/** Packed by true lengths unless the spec says otherwise, when the modality has them and keeps its time axis. */
export function defaultPacking(_p: RnnEncoder, ctx: DefaultsContext): Record<string, unknown> {
  const mod = ctx.modality;
  const lengths = mod ? (mod.lengths !== undefined ? mod.lengths : ctx.dataset?.features[mod.feature]?.lengths ?? null) : null;
  return { packed: Boolean(lengths) && !mod?.preprocess.time_mean && mod?.align !== 'avg_pool' };
}

export function inferRnnEncoder(ctx: ShapeContext<RnnEncoder>, gates: number): ShapeResult | undefined {
  const p = ctx.params;
  const input = singleInput(ctx);
  if (!input || !expectKind(ctx, p.type, input, ['sequence'])) return undefined;
  checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
  const dirs = p.bidirectional ? 2 : 1;
  const params = rnnParams(p.type, { gates, inSize: featureDim(input.type), hidden: p.hidden, layers: p.layers, bidirectional: p.bidirectional });
  if ('sequence' in p && p.sequence) {
    if (p.out !== null) {
      ctx.report('MSA4004', ctx.spanOf('out'), { node: ctx.node, detail: `sequence: true outputs every step's hidden state, which has no output projection (out: ${p.out})` }, { hint: 'set out: null, or sequence: false' });
      return undefined;
    }
    return { output: { kind: 'sequence', shape: ['B', input.type.shape[1]!, p.hidden * dirs], dtype: 'float32', aligned: input.type.aligned === true }, params };
  }
  if (p.out !== null) params.push(...linearParams('linear', p.hidden * dirs, p.out));
  return { output: vector(p.out ?? p.hidden * dirs), params };
}

export default defineComponent<LstmEncoder>({
  kind: 'encoder',
  type: 'lstm',
  schema: 'components/encoders/lstm.schema.json',
  doc: "LSTM over a sequence (packed by true lengths as in Self-MM's AuViSubNet); the final hidden state, optionally projected.",
  accepts: ['sequence'],
  outputKind: (p) => (p.sequence ? 'sequence' : 'vector'),
  packsLengths: (p) => p.packed === true,
  defaults: defaultPacking,
  examples: [
    { label: 'self-mm audio', params: { type: 'lstm', hidden: 16, layers: 1, dropout: 0, bidirectional: false, packed: true, out: 16 }, inputs: [['audio', sequenceType(375, 5, { lengths: 'audio_lengths' })]] },
    { label: 'tetfn audio steps', params: { type: 'lstm', hidden: 16, layers: 1, dropout: 0, bidirectional: false, packed: false, sequence: true, out: null }, inputs: [['audio', sequenceType(50, 5)]] },
    { label: 'bi 3 layers', params: { type: 'lstm', hidden: 8, layers: 3, dropout: 0, bidirectional: true, out: null }, inputs: [['vision', sequenceType(50, 20)]] },
  ],
  summary: summarizeRnnEncoder,
  paramNames: rnnEncoderNames,
  infer: (ctx) => inferRnnEncoder(ctx, 4),
  // Self-MM's AuViSubNet (models/multiTask/SELF_MM.py): `rnn` (nn.LSTM) and `linear_1`.
  mmsaNames: { rename: { lstm: 'rnn', linear: 'linear_1' } },
});
