// Catalog entry 'precomputed': features used as they are (a row, the time-mean, or the whole sequence); no
// parameters. Schema and shape rule; phases 2-5.

import { defineComponent } from '../../component.js';
import type { PrecomputedEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<PrecomputedEncoder>({
  kind: 'encoder',
  type: 'precomputed',
  schema: 'components/encoders/precomputed.schema.json',
  doc: 'Reads precomputed features as they are: e.g. the [CLS] row of BERT features.',
  accepts: ['sequence', 'vector'],
  outputKind: (p) => (p.select === 'sequence' ? 'sequence' : 'vector'),
  outputKindFix: (_p, wanted) => (wanted === 'vector' ? 'set `select: cls`, `mean` or `last` on the encoder' : undefined),
  examples: [
    { label: 'cls', params: { type: 'precomputed', select: 'cls' }, inputs: [['text', sequenceType(50, 768)]] },
    { label: 'sequence', params: { type: 'precomputed', select: 'sequence' }, inputs: [['text', sequenceType(50, 768)]] },
  ],
  summary: (p) => `precomputed(select ${p.select})`,
  paramNames: () => [],
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input) return undefined;
    // Keeping the whole sequence needs one; a row or mean of an already pooled vector is the vector itself.
    const kinds = p.select === 'sequence' ? (['sequence'] as const) : (['sequence', 'vector'] as const);
    if (!expectKind(ctx, 'precomputed', input, kinds)) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    if (p.select === 'sequence') return { output: { ...input.type }, params: [] };
    return { output: vector(featureDim(input.type)), params: [] };
  },
});
