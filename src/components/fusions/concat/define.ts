// Catalog entry 'concat': concatenation of vector features in input order; no parameters.
// Schema and shape rule; phases 2-5.

import { defineComponent } from '../../component.js';
import type { ConcatFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkFusionInputs, vector } from '../../shape-helpers.js';

export default defineComponent<ConcatFusion>({
  kind: 'fusion',
  type: 'concat',
  schema: 'components/fusions/concat.schema.json',
  doc: "Concatenates its inputs' features in order.",
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  examples: [{ label: 'three', params: { type: 'concat', inputs: ['text', 'audio', 'vision'] }, inputs: [['text', vector(768)], ['audio', vector(16)], ['vision', vector(32)]] }],
  summary: (p) => `concat(${p.inputs.join(', ')})`,
  paramNames: () => [],
  infer(ctx) {
    if (!checkFusionInputs(ctx, 'concat', ['vector'])) return undefined;
    const total = ctx.inputs.reduce((s, i) => s + featureDim(i.type), 0);
    return { output: vector(total), params: [] };
  },
});
