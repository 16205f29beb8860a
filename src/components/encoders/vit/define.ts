// Catalog entry 'vit': ALMT's per-modality embedding (models/singleTask/ALMT.py embedding_l/a/v: Linear, then its
// Transformer with learned extra tokens and positions, pre-norm ViT blocks), keeping the first positions. Schema,
// shape rule, parameter names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { VitEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, linearParams, param, sequenceType, vitLayerParams } from '../../shape-helpers.js';
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { sumAttentionLayers } from '../../attention-memory.js';

/** Positions kept: `keep`, else the extra tokens. */
export function vitKeep(p: VitEncoder): number {
  return p.keep ?? p.tokens;
}

/** Parameters in MMSA's order: the Linear, the positions, the extra tokens, the layers. */
export function vitParams(p: VitEncoder, inDim: number, length: number): ParamDecl[] {
  return [
    ...(p.project ? linearParams('proj', inDim, p.out) : []),
    param('pos_embedding', [1, length + p.tokens, p.out]),
    ...(p.tokens > 0 ? [param('extra_token', [1, p.tokens, p.out])] : []),
    ...vitLayerParams('encoder', p.layers, p.out, p.heads, p.head_dim, p.mlp),
  ];
}

export default defineComponent<VitEncoder>({
  kind: 'encoder',
  type: 'vit',
  schema: 'components/encoders/vit.schema.json',
  doc: "ALMT's per-modality embedding: Linear, learned extra tokens (zero-init) and positions, ViT-style pre-norm layers (GELU MLP); the first positions out.",
  accepts: ['sequence'],
  outputKind: () => 'sequence',
  reads: (p) => (p.input === undefined ? undefined : [{ name: p.input, path: ['input'] }]),
  examples: [
    {
      label: 'almt audio',
      params: { type: 'vit', out: 16, tokens: 4, length: 10, layers: 1, heads: 2, head_dim: 8, mlp: 16, project: true },
      inputs: [['audio', sequenceType(10, 5)]],
    },
    {
      label: 'no tokens, no projection',
      params: { type: 'vit', out: 8, tokens: 0, layers: 2, heads: 1, head_dim: 8, mlp: 8, keep: 3, project: false },
      inputs: [['vision', sequenceType(6, 8)]],
    },
  ],
  // MMSA keeps the Linear and the Transformer as items 0 and 1 of one nn.Sequential (embedding_l/a/v).
  mmsaNames: { rename: { proj: '0', pos_embedding: '1.pos_embedding', extra_token: '1.extra_token', encoder: '1.encoder' } },
  summary: (p) =>
    `vit(${p.project ? `linear -> ${p.out}, ` : ''}${p.tokens} extra tokens, learned positions, ${p.layers} pre-norm layer${p.layers === 1 ? '' : 's'}, ${p.heads} heads x ${p.head_dim}, gelu mlp ${p.mlp}) -> first ${vitKeep(p)} positions`,
  paramNames: (p) => vitParams(p, 1, 1).map((d) => d.name),
  // Its self-attention runs over every input step and the extra tokens (ALMT's vision: 508 positions x 8 heads).
  stepMemory(node, { ir, batch, mode, frozen }) {
    const p = node.config;
    const input = ir.nodes.find((n) => n.id === node.inputs[0]?.split(':')[0])?.output.shape ?? [];
    const T = (typeof input[1] === 'number' ? input[1] : (p.length ?? 1)) + p.tokens;
    const inDim = typeof input[2] === 'number' ? input[2] : p.out;
    const shape = { batch, tq: T, tk: T, d: p.out, heads: p.heads, inner: p.heads * p.head_dim, mlp: p.mlp };
    // The 'vit' layers keep their activations in either mode (no recomputing op of their own yet): only BERT's and
    // MulT's layers follow the plan's 'recompute'.
    const m = sumAttentionLayers([{ shape, count: p.layers, mode: 'keep' }], mode, frozen);
    // Before the layers: the input, its projection, the extra tokens' concatenation and the positions' sum, with
    // their gradients.
    const embed = 4 * batch * (2 * T * inDim + 6 * T * p.out);
    return { ...m, saved: m.saved + (frozen ? 0 : embed), eval: m.eval + embed / 2 };
  },
  infer(ctx) {
    const p = ctx.params;
    const input = ctx.inputs[0];
    if (!input || !expectKind(ctx, 'vit', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const d = featureDim(input.type);
    const T = input.type.shape[1];
    if (!p.project && d !== p.out) {
      ctx.report('MSA4004', ctx.spanOf('project'), { node: ctx.node, detail: `without project the input must be out = ${p.out} wide, but '${input.name}' gives ${d}` }, {
        hint: `set project: true (a Linear ${d} -> ${p.out} first) or out: ${d}`,
      });
      return undefined;
    }
    const length = p.length ?? (typeof T === 'number' ? T : undefined);
    if (length === undefined) {
      ctx.report('MSA4004', ctx.span, { node: ctx.node, detail: `the learned positions need the input's length, and '${input.name}' has none fixed` }, {
        hint: 'set length (MMSA: feature_length of the modality)',
      });
      return undefined;
    }
    if (typeof T === 'number' && T > length) {
      ctx.report('MSA4004', ctx.spanOf('length'), { node: ctx.node, detail: `'${input.name}' has ${T} steps but the learned positions cover length = ${length}` }, {
        hint: `set length: ${T} or more (MMSA's feature_length must cover the data's sequence length)`,
      });
      return undefined;
    }
    const keep = vitKeep(p);
    const total = (typeof T === 'number' ? T : length) + p.tokens;
    if (keep > total) {
      ctx.report('MSA4004', ctx.spanOf('keep'), { node: ctx.node, detail: `keep = ${keep} positions of ${total}` }, { hint: `set keep to at most ${total}` });
      return undefined;
    }
    return { output: sequenceType(keep, p.out), params: vitParams(p, d, length) };
  },
});
