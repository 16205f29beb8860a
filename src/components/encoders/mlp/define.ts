// Catalog entry 'mlp': a feed-forward network over a vector (sequences pooled first, or over every step with pool
// none): `layers.{i}` then `out`.
// Schema, shape rule and parameter names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { MlpEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, mlpNames, mlpParams, sequenceType, singleInput, vector } from '../../shape-helpers.js';

export default defineComponent<MlpEncoder>({
  kind: 'encoder',
  type: 'mlp',
  schema: 'components/encoders/mlp.schema.json',
  doc: 'Feed-forward network over a vector (sequences are pooled first).',
  outputKind: (p) => (p.pool === 'none' ? 'sequence' : 'vector'),
  reads: (p) => (p.input !== undefined ? [{ name: p.input, path: ['input'] }] : undefined),
  accepts: ['sequence', 'vector'],
  examples: [
    { label: 'vector', params: { type: 'mlp', hidden: [32, 16], out: 8, dropout: 0, activation: 'relu', pool: 'mean' }, inputs: [['audio', vector(5)]] },
    { label: 'per step (tfr_net generator)', params: { type: 'mlp', hidden: [], out: 5, dropout: 0, activation: 'relu', pool: 'none' }, inputs: [['audio', sequenceType(10, 24)]] },
    { label: 'sequence, no hidden', params: { type: 'mlp', hidden: [], out: 8, dropout: 0.2, activation: 'tanh', pool: 'last' }, inputs: [['audio', sequenceType(10, 5)]] },
  ],
  summary(p) {
    const parts = [`pool ${p.pool}`];
    if (p.hidden.length > 0) parts.push(`${p.hidden.join(', ')} ${p.activation}`);
    if (p.dropout > 0) parts.push(`dropout ${p.dropout}`);
    return `mlp(${parts.join(', ')}) -> ${p.out}`;
  },
  paramNames: (p) => mlpNames(p.hidden),
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'mlp', input, ['sequence', 'vector'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const params = mlpParams(featureDim(input.type), p.hidden, p.out);
    if (p.pool === 'none' && input.type.kind === 'sequence') return { output: { ...input.type, shape: ['B', input.type.shape[1]!, p.out] }, params };
    return { output: vector(p.out), params };
  },
});
