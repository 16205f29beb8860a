// Lowering of encoder 'text_lstm' (TFN/LMF TextSubNet): 1-layer LSTM `rnn.*` over the whole padded sequence (no
// packing), h_n, Dropout (the configured value; MMSA's forced 0 is expressed in the presets), Linear `linear_1`.
// Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import { createTextSubNet } from './nn.js';
import type { TextLstmEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';

export default defineNodeLowering<TextLstmEncoder>('encoder', (node, ctx) => {
  const input = onlyInput(node, ctx);
  const net = createTextSubNet(ctx.store, node.id, outDim(input), node.config.hidden, node.config.out, node.config.dropout, {
    forcedZeroDropout: false,
  });
  return {
    apply(inputs, fctx) {
      return { tensor: net.apply(firstValue(node, inputs).tensor as tf.Tensor3D, fctx) };
    },
  };
});
