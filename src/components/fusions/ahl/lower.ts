// Lowering of fusion 'ahl' (ALMT): text encoder over h_l + positions returning every layer's states, the AHL layers
// over the hyper tokens, the cross transformer (shared zero extra token, separate positions for source and target),
// token 0. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { AhlFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createTransformerEncoder, joinPath, normalInit, onesInit, zerosInit } from '../../../runtime/nn/index.js';
import { hyperHeadDim } from './define.js';
import { createAhlLayer } from './nn.js';

export default defineNodeLowering<AhlFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const d = outDim(ctx.inputs[0]!);
  const n = ctx.inputs[0]!.output.shape[1] as number;
  const p = (path: string, name: string, shape: number[], init: Parameters<typeof ctx.store.param>[3]) => ctx.store.param(joinPath(node.id, path), name, shape, init);
  // torch.ones hyper tokens, torch.randn positions, torch.zeros extra token (ALMT.__init__, Transformer, CrossTransformer).
  const hyper = ctx.store.param(node.id, 'h_hyper', [1, n, d], onesInit);
  const textPos = p('l_encoder', 'pos_embedding', [1, n, d], normalInit(0, 1));
  const text = createTransformerEncoder(ctx.store, joinPath(node.id, 'l_encoder.encoder'), {
    layout: 'vit',
    embedDim: d,
    numHeads: c.text_heads,
    headDim: c.text_head_dim,
    ffn: c.text_mlp ?? d,
    layers: c.depth - 1,
  });
  const ahl = Array.from({ length: c.depth }, (_, i) => createAhlLayer(ctx.store, joinPath(node.id, `h_hyper_layer.layers.${i}.0`), d, c.hyper_heads, hyperHeadDim(d, c.hyper_heads)));
  const posS = p('fusion_layer', 'pos_embedding_s', [1, n + 1, d], normalInit(0, 1));
  const posT = p('fusion_layer', 'pos_embedding_t', [1, n + 1, d], normalInit(0, 1));
  const extra = p('fusion_layer', 'extra_token', [1, 1, d], zerosInit);
  const cross = createTransformerEncoder(ctx.store, joinPath(node.id, 'fusion_layer.CrossTransformerEncoder'), {
    layout: 'vit',
    embedDim: d,
    numHeads: c.fusion_heads,
    headDim: c.fusion_head_dim,
    ffn: c.fusion_mlp,
    layers: c.fusion_layers,
  });
  return {
    apply(inputs, fctx) {
      const [hl, ha, hv] = inputs.map((v) => v.tensor as tf.Tensor3D) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const B = hl.shape[0];
      const states = text.hidden!(tf.add(hl, textPos) as tf.Tensor3D, undefined, fctx);
      let h = tf.tile(hyper, [B, 1, 1]) as tf.Tensor3D;
      ahl.forEach((layer, i) => {
        h = layer.apply(states[i]!, ha, hv, h, fctx);
      });
      const first = tf.tile(extra, [B, 1, 1]);
      const source = tf.add(tf.concat([first, h], 1), posS) as tf.Tensor3D;
      const target = tf.add(tf.concat([first, states.at(-1)!], 1), posT) as tf.Tensor3D;
      const y = cross.apply(target, source, fctx);
      return { tensor: tf.reshape(tf.slice(y, [0, 0, 0], [B, 1, d]), [B, d]) };
    },
  };
});
