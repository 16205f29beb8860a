// Lowering of encoder 'subnet' (TFN/LMF SubNet): time-mean of a sequence (vectors pass), BatchNorm1d `norm`,
// Dropout, three Linear+ReLU (`linear_1..3`). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createSubNet } from './nn.js';
import type { SubnetEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';
import { meanSteps } from '../../../runtime/nn/pool.js';

export default defineNodeLowering<SubnetEncoder>('encoder', (node, ctx) => {
  const input = onlyInput(node, ctx);
  const net = createSubNet(ctx.store, node.id, outDim(input), node.config.hidden, node.config.dropout);
  return {
    apply(inputs, fctx) {
      const x = firstValue(node, inputs).tensor;
      const v = x.rank === 3 ? meanSteps(x) : (x as tf.Tensor2D);
      return { tensor: net.apply(v, fctx) };
    },
  };
});
