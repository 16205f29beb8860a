// Catalog entry 'ahl': ALMT's adaptive hyper-modality learning and cross-transformer fusion (models/singleTask/ALMT.py
// l_encoder, h_hyper_layer, fusion_layer). Schema, shape rule, parameter names (MMSA's, below its model); phases 2-5.

import { defineComponent } from '../../component.js';
import type { AhlFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, formatType, type ParamDecl } from '../../../compiler/ir/types.js';
import { sumAttentionLayers } from '../../attention-memory.js';
import { checkFusionInputs, linearParams, param, sequenceType, vector, vitLayerParams } from '../../shape-helpers.js';

/** The AHL layers' head size: ALMT's int(dim / heads). */
export function hyperHeadDim(d: number, heads: number): number {
  return Math.trunc(d / heads);
}

/** Parameters in MMSA's state_dict order for tokens [B, n, d]. */
export function ahlParams(p: AhlFusion, n: number, d: number): ParamDecl[] {
  const hd = hyperHeadDim(d, p.hyper_heads);
  const inner = p.hyper_heads * hd;
  const ahl: ParamDecl[] = [];
  for (let i = 0; i < p.depth; i++) {
    const l = `h_hyper_layer.layers.${i}.0`;
    for (const k of ['norm1', 'norm2', 'norm3', 'norm4']) ahl.push(param(`${l}.${k}.weight`, [d]), param(`${l}.${k}.bias`, [d]));
    for (const k of ['to_q', 'to_k_ta', 'to_k_tv', 'to_v_ta', 'to_v_tv']) ahl.push(param(`${l}.fn.${k}.weight`, [inner, d]));
    if (!(p.hyper_heads === 1 && hd === d)) ahl.push(...linearParams(`${l}.fn.to_out.0`, inner, d));
  }
  return [
    param('h_hyper', [1, n, d]),
    param('l_encoder.pos_embedding', [1, n, d]),
    ...vitLayerParams('l_encoder.encoder', p.depth - 1, d, p.text_heads, p.text_head_dim, p.text_mlp ?? d),
    ...ahl,
    param('fusion_layer.pos_embedding_s', [1, n + 1, d]),
    param('fusion_layer.pos_embedding_t', [1, n + 1, d]),
    param('fusion_layer.extra_token', [1, 1, d]),
    ...vitLayerParams('fusion_layer.CrossTransformerEncoder', p.fusion_layers, d, p.fusion_heads, p.fusion_head_dim, p.fusion_mlp),
  ];
}

export default defineComponent<AhlFusion>({
  kind: 'fusion',
  type: 'ahl',
  schema: 'components/fusions/ahl.schema.json',
  doc: "ALMT's adaptive hyper-modality learning: hyper tokens turned by text-queried attention over audio and vision layer by layer, then a cross transformer from them to the text; its first token out.",
  arity: { min: 3, max: 3 },
  accepts: ['sequence'],
  examples: [
    {
      label: 'almt',
      params: { type: 'ahl', inputs: ['text', 'audio', 'vision'], depth: 3, text_heads: 2, text_head_dim: 8, hyper_heads: 4, fusion_layers: 2, fusion_heads: 2, fusion_head_dim: 8, fusion_mlp: 16 },
      inputs: [['text', sequenceType(4, 16)], ['audio', sequenceType(4, 16)], ['vision', sequenceType(4, 16)]],
    },
  ],
  summary: (p) =>
    `ahl(text encoder ${p.depth - 1} layer${p.depth === 2 ? '' : 's'}, ${p.depth} hyper-modality layers x ${p.hyper_heads} heads, cross transformer ${p.fusion_layers} layer${p.fusion_layers === 1 ? '' : 's'} x ${p.fusion_heads} heads) -> token 0`,
  paramNames: (p) => ahlParams(p, 1, 8).map((d) => d.name),
  // Every attention it builds: the text encoder's self-attention, two attentions per AHL layer (text over audio and
  // over vision, no MLP), the cross transformer's layers over the extra token and the n tokens. All of them keep their
  // activations whatever the plan's mode (no recomputing op of their own yet).
  stepMemory(node, { ir, batch, mode, frozen }) {
    const p = node.config;
    const input = ir.nodes.find((x) => x.id === node.inputs[0]?.split(':')[0])?.output.shape ?? [];
    const n = typeof input[1] === 'number' ? input[1] : 1;
    const d = typeof input[2] === 'number' ? input[2] : 1;
    const at = (t: number, heads: number, headDim: number, mlp: number, cross: boolean) => ({ batch, tq: t, tk: t, d, heads, inner: heads * headDim, mlp, cross });
    return sumAttentionLayers(
      [
        { shape: at(n, p.text_heads, p.text_head_dim, p.text_mlp ?? d, false), count: p.depth - 1, mode: 'keep' },
        { shape: at(n, p.hyper_heads, hyperHeadDim(d, p.hyper_heads), 0, true), count: 2 * p.depth, mode: 'keep' },
        { shape: at(n + 1, p.fusion_heads, p.fusion_head_dim, p.fusion_mlp, true), count: p.fusion_layers, mode: 'keep' },
      ],
      mode,
      frozen,
    );
  },
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'ahl', ['sequence'])) return undefined;
    const [first] = ctx.inputs;
    if (!first) return undefined;
    const d = featureDim(first.type);
    const n = first.type.shape[1];
    const odd = ctx.inputs.find((i) => featureDim(i.type) !== d || i.type.shape[1] !== n);
    if (odd || typeof n !== 'number') {
      const bad = odd ?? first;
      ctx.report('MSA4004', bad.span, { node: ctx.node, detail: `the text, audio and vision tokens need one fixed shape [B, n, d], but '${first.name}' gives ${formatType(first.type)} and '${bad.name}' gives ${formatType(bad.type)}` }, {
        hint: 'give the three vit encoders the same out and keep (ALMT: dst_feature_dims and dst_embedding_length)',
      });
      return undefined;
    }
    return { output: vector(d), params: ahlParams(p, n, d) };
  },
});
