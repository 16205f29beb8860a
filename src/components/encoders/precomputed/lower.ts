// Lowering of encoder 'precomputed': no parameters; the [CLS] row, the padded time-mean, the last valid step (by true
// lengths when the modality has them) or the sequence as it is. Phase 6 (lower).

import type { PrecomputedEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue } from '../../../runtime/lower/node.js';
import { poolToVector } from '../../../runtime/nn/pool.js';

export default defineNodeLowering<PrecomputedEncoder>('encoder', (node) => {
  const { select } = node.config;
  return {
    apply(inputs) {
      const v = firstValue(node, inputs);
      if (select === 'sequence') return v;
      return { tensor: poolToVector(v.tensor, select, v.lengths) };
    },
  };
});
