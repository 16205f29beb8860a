// Lowering of encoder 'text_cnn': per width k a 'valid' Conv1d `convs.<i>`, ReLU, max over the positions whose window
// lies inside the row's true length (padding never wins), concatenated, Dropout, optional Linear. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { TextCnnEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';
import { clipLengths, createConv1d, maskedMax, zeroPadding } from '../../../runtime/nn/conv.js';
import { createLinear, dropout } from '../../../runtime/nn/layers.js';
import { joinPath } from '../../../runtime/nn/params.js';

export default defineNodeLowering<TextCnnEncoder>('encoder', (node, ctx) => {
  const p = node.config;
  const D = outDim(onlyInput(node, ctx));
  const convs = p.kernels.map((k, i) => createConv1d(ctx.store, joinPath(node.id, `convs.${i}`), D, p.channels, k));
  const widest = Math.max(...p.kernels);
  const out = p.out === null ? undefined : createLinear(ctx.store, joinPath(node.id, 'linear'), p.channels * p.kernels.length, p.out);
  return {
    apply(inputs, fctx) {
      const v = firstValue(node, inputs);
      let x = zeroPadding(v.tensor as tf.Tensor3D, v.lengths);
      const [B, T] = x.shape;
      // A text shorter than the widest kernel is zero-padded to it (the window at position 0 still counts).
      if (T < widest) x = tf.pad(x, [[0, 0], [0, widest - T], [0, 0]]);
      const lengths = clipLengths(B, T, v.lengths);
      const feats = convs.map((conv) => {
        const y = tf.relu(conv.apply(x, 'valid')) as tf.Tensor3D;
        // Positions t with t + k <= length; at least position 0.
        const valid = Int32Array.from(lengths, (l) => Math.max(1, l - conv.kernel + 1));
        return maskedMax(y, valid);
      });
      const z = feats.length === 1 ? feats[0]! : tf.concat(feats, 1);
      return { tensor: out ? out.apply(dropout(z, p.dropout, fctx)) : dropout(z, p.dropout, fctx) };
    },
  };
});
