// Lowering of encoder 'vit' (ALMT's embedding_l/a/v): Linear, the extra tokens prepended, the first n + tokens learned
// positions added, the 'vit' layers of the shared transformer encoder, the first `keep` positions. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { VitEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, outDim } from '../../../runtime/lower/node.js';
import { createLinear, createTransformerEncoder, joinPath, normalInit, zerosInit } from '../../../runtime/nn/index.js';
import { vitKeep } from './define.js';

export default defineNodeLowering<VitEncoder>('encoder', (node, ctx) => {
  const c = node.config;
  const input = ctx.inputs[0]!;
  const proj = c.project ? createLinear(ctx.store, joinPath(node.id, 'proj'), outDim(input), c.out) : undefined;
  const T = input.output.shape[1];
  const length = c.length ?? (T as number);
  // torch.randn positions, torch.zeros extra tokens (ALMT's Transformer.__init__).
  const pos = ctx.store.param(node.id, 'pos_embedding', [1, length + c.tokens, c.out], normalInit(0, 1));
  const extra = c.tokens > 0 ? ctx.store.param(node.id, 'extra_token', [1, c.tokens, c.out], zerosInit) : undefined;
  const enc = createTransformerEncoder(ctx.store, joinPath(node.id, 'encoder'), {
    layout: 'vit',
    embedDim: c.out,
    numHeads: c.heads,
    headDim: c.head_dim,
    ffn: c.mlp,
    layers: c.layers,
  });
  const keep = vitKeep(c);
  return {
    apply(inputs, fctx) {
      let x = firstValue(node, inputs).tensor as tf.Tensor3D;
      if (proj) x = proj.apply(x) as tf.Tensor3D;
      const [B, n] = x.shape;
      if (n > length) throw new Error(`${node.id}: ${n} steps, but the learned positions cover ${length}`);
      if (extra) x = tf.concat([tf.tile(extra, [B, 1, 1]), x], 1) as tf.Tensor3D;
      x = tf.add(x, tf.slice(pos, [0, 0, 0], [1, n + c.tokens, c.out])) as tf.Tensor3D;
      const y = enc.apply(x, undefined, fctx);
      return { tensor: tf.slice(y, [0, 0, 0], [B, keep, c.out]) };
    },
  };
});
