// Lowering of fusion 'tensor' (TFN): append a 1 to each input and take the outer product, first input slowest;
// no parameters. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { tensorFusion } from './nn.js';
import type { TensorFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering } from '../../../runtime/lower/node.js';

export default defineNodeLowering<TensorFusion>('fusion', (node) => {
  const appendOne = node.config.append_one;
  return {
    apply(inputs) {
      const xs = inputs.map((v) => v.tensor as tf.Tensor2D);
      if (appendOne) return { tensor: tensorFusion(xs) };
      const B = xs[0]!.shape[0];
      let z = xs[0]!;
      for (const x of xs.slice(1)) z = tf.reshape(tf.mul(tf.expandDims(z, 2), tf.expandDims(x, 1)), [B, -1]) as tf.Tensor2D;
      return { tensor: z };
    },
  };
});
