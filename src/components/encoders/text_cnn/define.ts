// Catalog entry 'text_cnn': Kim's sentence CNN over token states (BERT features): one convolution per width, ReLU,
// max over the valid positions, concatenated, optional Linear. Schema, shape rule and parameter names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { TextCnnEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, conv1dParams, expectKind, linearNames, linearParams, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<TextCnnEncoder>({
  kind: 'encoder',
  type: 'text_cnn',
  schema: 'components/encoders/text_cnn.schema.json',
  doc: 'Text CNN over BERT token states (Kim): parallel convolutions of several widths, ReLU, max over time, concatenated.',
  accepts: ['sequence'],
  outputKind: () => 'vector',
  examples: [
    { label: 'bert states', params: { type: 'text_cnn', kernels: [3, 4, 5], channels: 16, dropout: 0.5, out: null }, inputs: [['text', sequenceType(50, 768)]] },
    { label: 'short, projected', params: { type: 'text_cnn', kernels: [2, 6], channels: 4, dropout: 0, out: 8 }, inputs: [['text', sequenceType(3, 12, { lengths: 'text_lengths' })]] },
  ],
  summary: (p) => `text_cnn(widths ${p.kernels.join('/')}, ${p.channels} filters each, relu, max over time${p.dropout > 0 ? `, dropout ${p.dropout}` : ''})${p.out === null ? '' : ` -> linear ${p.out}`}`,
  paramNames: (p) => [...p.kernels.flatMap((_, i) => linearNames(`convs.${i}`)), ...(p.out === null ? [] : linearNames('linear'))],
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'text_cnn', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const D = featureDim(input.type);
    const params = p.kernels.flatMap((k, i) => conv1dParams(`convs.${i}`, D, p.channels, k));
    const width = p.channels * p.kernels.length;
    if (p.out !== null) params.push(...linearParams('linear', width, p.out));
    return { output: vector(p.out ?? width), params };
  },
});
