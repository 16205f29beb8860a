// Catalog entry 'transformer': PyTorch's nn.TransformerEncoder over the input vectors as a sequence (MISA's fusion,
// models/singleTask/MISA.py transformer_encoder), every position's output concatenated. Phases 2-5.

import { defineComponent } from '../../component.js';
import type { TransformerFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, formatType } from '../../../compiler/ir/types.js';
import { checkFusionInputs, torchTransformerParams, vector } from '../../shape-helpers.js';

export default defineComponent<TransformerFusion>({
  kind: 'fusion',
  type: 'transformer',
  schema: 'components/fusions/transformer.schema.json',
  doc: "PyTorch's post-norm transformer encoder over the input vectors as one sequence; every position's output concatenated (MISA's fusion).",
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  examples: [
    {
      label: 'misa',
      params: { type: 'transformer', inputs: ['p_t', 'p_a', 's_t', 's_a'], heads: 2, layers: 1, ffn: 32, dropout: 0.1 },
      inputs: [['p_t', vector(8)], ['p_a', vector(8)], ['s_t', vector(8)], ['s_a', vector(8)]],
    },
  ],
  summary: (p) => `transformer(${p.inputs.length} positions; ${p.layers} post-norm layer${p.layers === 1 ? '' : 's'}, ${p.heads} heads, ffn ${p.ffn}, dropout ${p.dropout}) -> concat`,
  paramNames: (p) => torchTransformerParams(p.layers, 1, 1).map((d) => d.name),
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'transformer', ['vector'])) return undefined;
    const first = ctx.inputs[0]!;
    const d = featureDim(first.type);
    const odd = ctx.inputs.find((i) => featureDim(i.type) !== d);
    if (odd) {
      ctx.report('MSA4004', odd.span, { node: ctx.node, detail: `the positions of one sequence need one size, but '${first.name}' gives ${d} and '${odd.name}' gives ${featureDim(odd.type)}` }, {
        hint: 'project the inputs to one size first',
        related: [{ span: first.span, message: `'${first.name}' gives ${formatType(first.type)}` }],
      });
      return undefined;
    }
    if (d % p.heads !== 0) {
      ctx.report('MSA4004', ctx.spanOf('heads'), { node: ctx.node, detail: `${p.heads} heads do not divide the input size ${d}` }, { hint: 'pick heads dividing the input size' });
      return undefined;
    }
    const params = torchTransformerParams(p.layers, d, p.ffn);
    return { output: vector(ctx.inputs.length * d), params };
  },
});
