// Lowering of fusion 'concat': the input vectors concatenated in input order; no parameters. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { defineNodeLowering } from '../../../runtime/lower/node.js';

export default defineNodeLowering('fusion', () => ({
  apply(inputs) {
    return { tensor: inputs.length === 1 ? inputs[0]!.tensor : tf.concat(inputs.map((v) => v.tensor), 1) };
  },
}));
