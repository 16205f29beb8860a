// Lowering of encoder 'dilated_tcn': Linear `proj`, then per block h = relu(h + mix([relu(conv_d(dropout(h))) for d])),
// each branch a 'same' dilated Conv1d `blocks.<b>.branches.<j>`, `mix` a 1x1 Conv1d; padded frames zeroed before
// every convolution; masked pooling; optional Linear `linear`. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { DilatedTcnEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering } from '../../../runtime/lower/node.js';
import { createConv1d, zeroPadding } from '../../../runtime/nn/conv.js';
import { dropout } from '../../../runtime/nn/layers.js';
import { joinPath } from '../../../runtime/nn/params.js';
import { lowerConvEncoder } from '../gated_cnn/lower.js';

export default defineNodeLowering<DilatedTcnEncoder>('encoder', (node, ctx) =>
  lowerConvEncoder(node, ctx, () => {
    const p = node.config;
    const C = p.channels;
    const blocks = Array.from({ length: p.blocks }, (_, b) => ({
      branches: p.dilations.map((d, j) => createConv1d(ctx.store, joinPath(node.id, `blocks.${b}.branches.${j}`), C, C, p.kernel, d)),
      mix: createConv1d(ctx.store, joinPath(node.id, `blocks.${b}.mix`), C * p.dilations.length, C, 1),
    }));
    return (h0, L, fctx) => {
      let h = h0;
      for (const blk of blocks) {
        const x = zeroPadding(dropout(h, p.dropout, fctx) as tf.Tensor3D, L);
        const scales = blk.branches.map((conv) => tf.relu(conv.apply(x, 'same')));
        const mixed = blk.mix.apply((scales.length === 1 ? scales[0]! : tf.concat(scales, 2)) as tf.Tensor3D, 'same');
        h = zeroPadding(tf.relu(tf.add(h, mixed)) as tf.Tensor3D, L);
      }
      return h;
    };
  }),
);
