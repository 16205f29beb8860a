// Catalog entry 'late': LF-DNN's late fusion, combining encoded vectors by concatenation, mean or sum; no
// parameters. Schema and shape rule; phases 2-5.

import { defineComponent } from '../../component.js';
import type { LateFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkFusionInputs, vector } from '../../shape-helpers.js';

export default defineComponent<LateFusion>({
  kind: 'fusion',
  type: 'late',
  schema: 'components/fusions/late.schema.json',
  doc: 'LF-DNN late fusion: per-modality networks (the encoders) combined after encoding.',
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  examples: [
    { label: 'concat', params: { type: 'late', inputs: ['audio', 'vision', 'text'], combine: 'concat' }, inputs: [['audio', vector(16)], ['vision', vector(128)], ['text', vector(256)]] },
    { label: 'mean', params: { type: 'late', inputs: ['a', 'b'], combine: 'mean' }, inputs: [['a', vector(16)], ['b', vector(16)]] },
  ],
  summary: (p) => `late(${p.combine}: ${p.inputs.join(', ')})`,
  paramNames: () => [],
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'late', ['vector'])) return undefined;
    const dims = ctx.inputs.map((i) => featureDim(i.type));
    if (p.combine === 'concat') return { output: vector(dims.reduce((a, b) => a + b, 0)), params: [] };
    const first = ctx.inputs[0];
    if (!first) return undefined;
    const odd = ctx.inputs.find((i) => featureDim(i.type) !== dims[0]);
    if (odd) {
      ctx.report(
        'MSA4004',
        odd.span,
        {
          node: ctx.node,
          detail: `combine '${p.combine}' needs inputs of equal size, but '${first.name}' gives ${dims[0]} and '${odd.name}' gives ${featureDim(odd.type)}`,
        },
        {
          hint: "give the encoders the same output size, or use `combine: concat`",
          related: [{ span: first.span, message: `'${first.name}' gives ${dims[0]} features` }],
        },
      );
      return undefined;
    }
    return { output: vector(dims[0] ?? 0), params: [] };
  },
});
