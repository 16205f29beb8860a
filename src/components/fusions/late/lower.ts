// Lowering of fusion 'late' (LF-DNN): the encoded vectors concatenated, averaged or summed; no parameters.
// Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { LateFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering } from '../../../runtime/lower/node.js';

export default defineNodeLowering<LateFusion>('fusion', (node) => {
  const { combine } = node.config;
  return {
    apply(inputs) {
      const ts = inputs.map((v) => v.tensor);
      if (ts.length === 1) return { tensor: ts[0]! };
      if (combine === 'concat') return { tensor: tf.concat(ts, 1) };
      const sum = tf.addN(ts);
      return { tensor: combine === 'mean' ? tf.div(sum, ts.length) : sum };
    },
  };
});
