// Lowering of encoder 'dilated_tcn': Linear `proj`, then per block h = relu(h + mix([relu(conv_d(dropout(h))) for d])),
// each branch a 'same' dilated Conv1d `blocks.<b>.branches.<j>`, `mix` a 1x1 Conv1d; padded frames zeroed before
// every convolution; masked pooling; optional Linear `linear`. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { DilatedTcnEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';
import { createConv1d, poolSteps, zeroPadding } from '../../../runtime/nn/conv.js';
import { createLinear, dropout } from '../../../runtime/nn/layers.js';
import { joinPath } from '../../../runtime/nn/params.js';

export default defineNodeLowering<DilatedTcnEncoder>('encoder', (node, ctx) => {
  const p = node.config;
  const C = p.channels;
  const proj = createLinear(ctx.store, joinPath(node.id, 'proj'), outDim(onlyInput(node, ctx)), C);
  const blocks = Array.from({ length: p.blocks }, (_, b) => ({
    branches: p.dilations.map((d, j) => createConv1d(ctx.store, joinPath(node.id, `blocks.${b}.branches.${j}`), C, C, p.kernel, d)),
    mix: createConv1d(ctx.store, joinPath(node.id, `blocks.${b}.mix`), C * p.dilations.length, C, 1),
  }));
  const out = p.out === null ? undefined : createLinear(ctx.store, joinPath(node.id, 'linear'), C, p.out);
  return {
    apply(inputs, fctx) {
      const v = firstValue(node, inputs);
      const L = v.lengths;
      let h = zeroPadding(proj.apply(v.tensor) as tf.Tensor3D, L);
      for (const blk of blocks) {
        const x = zeroPadding(dropout(h, p.dropout, fctx) as tf.Tensor3D, L);
        const scales = blk.branches.map((conv) => tf.relu(conv.apply(x, 'same')));
        const mixed = blk.mix.apply((scales.length === 1 ? scales[0]! : tf.concat(scales, 2)) as tf.Tensor3D, 'same');
        h = zeroPadding(tf.relu(tf.add(h, mixed)) as tf.Tensor3D, L);
      }
      const z = p.pool === 'none' ? h : poolSteps(h, p.pool, L);
      const y = out ? out.apply(dropout(z, p.dropout, fctx)) : z;
      return p.pool === 'none' && L ? { tensor: y, lengths: L } : { tensor: y };
    },
  };
});
