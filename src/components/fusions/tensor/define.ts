// Catalog entry 'tensor': TFN's tensor fusion (append 1, outer product, flatten with the first input slowest);
// no parameters. Schema and shape rule, with a size warning; phases 2-5.

import { defineComponent } from '../../component.js';
import type { TensorFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkFusionInputs, formatCount, vector } from '../../shape-helpers.js';

/**
 * Above this many features the post-fusion Linear alone needs hundreds of MB of weights and gradients. MOSI's TFN
 * (33 * 129 * 33 = 140,481) stays well below; MOSEI-size sub-networks with large text_out cross it.
 */
export const TENSOR_FUSION_WARN_FEATURES = 2_000_000;

export default defineComponent<TensorFusion>({
  kind: 'fusion',
  type: 'tensor',
  schema: 'components/fusions/tensor.schema.json',
  doc: "TFN tensor fusion: appends a 1 to each input and takes the outer product (first input varies slowest).",
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  examples: [{ label: 'tfn', params: { type: 'tensor', inputs: ['audio', 'video', 'text'], append_one: true }, inputs: [['audio', vector(32)], ['video', vector(128)], ['text', vector(32)]] }],
  summary: (p) => `tensor(${p.inputs.join(' x ')}${p.append_one ? ', append 1' : ''})`,
  paramNames: () => [],
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'tensor', ['vector'])) return undefined;
    const size = ctx.inputs.reduce((s, i) => s * (featureDim(i.type) + (p.append_one ? 1 : 0)), 1);
    if (size > TENSOR_FUSION_WARN_FEATURES) {
      const dims = ctx.inputs.map((i) => (p.append_one ? `(${featureDim(i.type)}+1)` : `${featureDim(i.type)}`)).join(' x ');
      ctx.report('MSA4005', ctx.span, { node: ctx.node, size: formatCount(size) }, {
        hint: `${dims} = ${formatCount(size)} features feed the next Linear; smaller encoder outputs keep tensor fusion tractable`,
        related: ctx.inputs.map((i) => ({ span: i.span, message: `'${i.name}' gives ${featureDim(i.type)} features` })),
      });
    }
    return { output: vector(size), params: [] };
  },
});
