// Lowering of head 'lstm_attention' (MCTN's Regression): activations = LSTM(x) (PyTorch init), attention =
// softmax over time of tanh(linear(activations)), y = linear2(sum_t attention_t * activations_t). With batch_as_time
// the LSTM runs on the transposed sequence, as MMSA's time-major LSTM does with its batch-major input. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, createLstm, joinPath } from '../../../runtime/nn/index.js';
import type { LstmAttentionHead } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';

export default defineNodeLowering<LstmAttentionHead>('head', (node, ctx) => {
  const H = outDim(onlyInput(node, ctx));
  const rnn = createLstm(ctx.store, joinPath(node.id, 'rnn'), { inputSize: H, hiddenSize: H });
  const lin = createLinear(ctx.store, joinPath(node.id, 'linear'), H, 1);
  const lin2 = createLinear(ctx.store, joinPath(node.id, 'linear2'), H, 1);
  const swap = (x: tf.Tensor3D): tf.Tensor3D => (node.config.batch_as_time ? (tf.transpose(x, [1, 0, 2]) as tf.Tensor3D) : x);
  return {
    apply(inputs, fctx) {
      const x = firstValue(node, inputs).tensor as tf.Tensor3D;
      const acts = swap(rnn.apply(swap(x), fctx, { returnOutputs: true }).outputs!); // B x T x H
      const [B, T] = acts.shape;
      const att = tf.softmax(tf.reshape(tf.tanh(lin.apply(acts)), [B, T]), -1);
      const pooled = tf.reshape(tf.matMul(tf.expandDims(att, 1), acts), [B, H]);
      return { tensor: lin2.apply(pooled) };
    },
  };
});
