// Lowering of fusion 'late' (LF-DNN): the encoded vectors concatenated, averaged or summed; no parameters.
// Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { cfgString, type NodeLowering } from '../../../runtime/lower/node.js';

export const lowerLateFusion: NodeLowering = (node) => {
  const combine = cfgString(node, 'combine', 'concat');
  return {
    apply(inputs) {
      const ts = inputs.map((v) => v.tensor);
      if (ts.length === 1) return { tensor: ts[0]! };
      if (combine === 'concat') return { tensor: tf.concat(ts, 1) };
      const sum = tf.addN(ts);
      return { tensor: combine === 'mean' ? tf.div(sum, ts.length) : sum };
    },
  };
};
