// Lowering of encoder 'conv1d': input dropout, then nn.Conv1d (zero padding at both ends when asked) as one GEMM over
// the unfolded sequence ([B, T + 2p - k + 1, k * in] against the weight reordered to [out, k * in]). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { dropout, linear, linearInit } from '../../../runtime/nn/index.js';
import type { Conv1dEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';

/** Conv1d(x [B, T, in], weight [out, in, k], bias [out]?) -> [B, T - k + 1, out] (PyTorch cross-correlation). */
export function conv1dTime(x: tf.Tensor3D, weight: tf.Tensor3D, bias: tf.Tensor | undefined): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const [out, , k] = weight.shape;
  const steps = T - k + 1;
  if (k === 1) return linear(x, tf.reshape(weight, [out, D]), bias) as tf.Tensor3D;
  // Column j * D + i of the unfolded input is x[t + j, i]; the weight is reordered to match.
  const cols = Array.from({ length: k }, (_, j) => tf.slice(x, [0, j, 0], [B, steps, D]));
  const unfolded = tf.concat(cols, 2);
  const w = tf.reshape(tf.transpose(weight, [0, 2, 1]), [out, k * D]);
  return linear(unfolded, w, bias) as tf.Tensor3D;
}

export default defineNodeLowering<Conv1dEncoder>('encoder', (node, ctx) => {
  const input = onlyInput(node, ctx);
  const c = node.config;
  const D = outDim(input);
  // nn.Conv1d's default init: kaiming_uniform(a=sqrt(5)) for the weight and U(+-1/sqrt(fan_in)) for the bias.
  const init = linearInit(D * c.kernel);
  const path = node.id;
  const weight = ctx.store.param(path, 'weight', [c.out, D, c.kernel], init);
  const bias = c.bias ? ctx.store.param(path, 'bias', [c.out], init) : undefined;
  return {
    apply(inputs, fctx) {
      let x = dropout(firstValue(node, inputs).tensor, c.dropout, fctx) as tf.Tensor3D;
      if ((c.padding ?? 0) > 0) x = tf.pad(x, [[0, 0], [c.padding, c.padding], [0, 0]]);
      const y = conv1dTime(x, weight as tf.Tensor3D, bias);
      return c.max_over_time ? { tensor: y, outputs: { max: tf.max(y, 1) } } : { tensor: y };
    },
  };
});
