// Lowering of fusion 'cyclic_translation' (MCTN): zero-pads every input to one feature size, cuts them to
// max_seq_len, runs the translations and publishes their loss as `translation_loss`. With batch_as_time the same
// modules run on the transposed tensors, which is what MMSA's time-major LSTMs do with its batch-major inputs.
// Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createCyclicTranslation } from './nn.js';
import type { CyclicTranslationFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { paddedDim, TRANSLATION_LOSS } from './define.js';

/** [B, L, d] -> [B, min(L, maxLen), D] with zero features appended (MMSA: F.pad, then [:, :max_seq_len]). */
export function padAndCut(x: tf.Tensor3D, D: number, maxLen: number): tf.Tensor3D {
  const [B, L, d] = x.shape;
  let y: tf.Tensor3D = d < D ? tf.pad(x, [[0, 0], [0, 0], [0, D - d]]) : x;
  if (L > maxLen) y = tf.slice(y, [0, 0, 0], [B, maxLen, D]);
  return y;
}

export default defineNodeLowering<CyclicTranslationFusion>('fusion', (node, ctx) => {
  const p = node.config;
  const D = paddedDim(p, ctx.inputs.map((i) => outDim(i)));
  const net = createCyclicTranslation(ctx.store, node.id, D, p.hidden);
  const swap = (x: tf.Tensor3D): tf.Tensor3D => (p.batch_as_time ? (tf.transpose(x, [1, 0, 2]) as tf.Tensor3D) : x);
  return {
    apply(inputs, fctx) {
      const [text, vision, audio] = inputs.map((v) => swap(padAndCut(v.tensor as tf.Tensor3D, D, p.max_seq_len)));
      const r = net.apply(text!, vision!, audio!, fctx);
      return { tensor: swap(r.joint), outputs: { [TRANSLATION_LOSS]: tf.reshape(r.translationLoss, [1]) } };
    },
  };
});
