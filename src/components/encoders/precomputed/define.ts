// Catalog entry 'precomputed': features used as they are (a row, the time-mean, the mean over the real tokens of a
// token mask, or the whole sequence); no parameters. Schema and shape rule; phases 2-5.

import { defineComponent } from '../../component.js';
import type { PrecomputedEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, sequenceType, singleInput, tokenIds, vector } from '../../shape-helpers.js';

export default defineComponent<PrecomputedEncoder>({
  kind: 'encoder',
  type: 'precomputed',
  schema: 'components/encoders/precomputed.schema.json',
  doc: 'Reads precomputed features as they are: e.g. the [CLS] row of BERT features.',
  accepts: ['sequence', 'vector'],
  arity: { min: 1, max: 2 },
  outputKind: (p) => (p.select === 'sequence' ? 'sequence' : 'vector'),
  outputKindFix: (_p, wanted) => (wanted === 'vector' ? 'set `select: cls`, `mean` or `last` on the encoder' : undefined),
  // Its own modality first, then the token rows whose mask the mean is taken over.
  reads: (p, key) =>
    p.mask_from === null || p.mask_from === undefined ? undefined : [{ name: `modalities.${p.modality ?? key}`, path: p.modality ? ['modality'] : [] }, { name: p.mask_from, path: ['mask_from'] }],
  examples: [
    { label: 'cls', params: { type: 'precomputed', select: 'cls' }, inputs: [['text', sequenceType(50, 768)]] },
    { label: 'sequence', params: { type: 'precomputed', select: 'sequence' }, inputs: [['text', sequenceType(50, 768)]] },
    { label: 'masked mean', params: { type: 'precomputed', select: 'mean', mask_from: 'modalities.text_bert' }, inputs: [['text', sequenceType(50, 768)], ['text_bert', tokenIds(50)]] },
  ],
  summary: (p) => `precomputed(select ${p.select}${p.mask_from ? ` over the ${p.mask_from} mask` : ''})`,
  paramNames: () => [],
  infer(ctx) {
    const p = ctx.params;
    const masked = p.mask_from !== null && p.mask_from !== undefined;
    const input = masked ? ctx.inputs[0] : singleInput(ctx);
    if (!input) return undefined;
    // Keeping the whole sequence needs one; a row or mean of an already pooled vector is the vector itself.
    const kinds = p.select === 'sequence' || masked ? (['sequence'] as const) : (['sequence', 'vector'] as const);
    if (!expectKind(ctx, 'precomputed', input, kinds)) return undefined;
    if (masked) {
      const tokens = ctx.inputs[1];
      if (!tokens || !expectKind(ctx, 'precomputed', tokens, ['tokens'])) return undefined;
      const [T, L] = [input.type.shape[1], tokens.type.shape[2]];
      if (p.select !== 'mean') {
        ctx.report('MSA4004', ctx.spanOf('mask_from'), { node: ctx.node, detail: `mask_from weights a mean, but select is '${p.select}'` }, { hint: 'set `select: mean`, or drop mask_from' });
        return undefined;
      }
      if (typeof T === 'number' && typeof L === 'number' && T !== L) {
        ctx.report('MSA4004', ctx.spanOf('mask_from'), { node: ctx.node, detail: `the features have ${T} steps but the mask of '${tokens.name}' has ${L} tokens` }, { hint: 'mask_from must name the token rows the features were computed from (same length)' });
        return undefined;
      }
    }
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    if (p.select === 'sequence') return { output: { ...input.type }, params: [] };
    return { output: vector(featureDim(input.type)), params: [] };
  },
});
