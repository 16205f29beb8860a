// Lowering of encoder 'precomputed': no parameters; the [CLS] row, the padded time-mean, the last valid step (by true
// lengths when the modality has them) or the sequence as it is. Phase 6 (lower).

import { firstValue, cfgString, type NodeLowering } from '../../../runtime/lower/node.js';
import { poolToVector, type PoolMode } from '../../../runtime/nn/pool.js';

export const lowerPrecomputedEncoder: NodeLowering = (node) => {
  const select = cfgString(node, 'select', 'cls');
  return {
    apply(inputs) {
      const v = firstValue(node, inputs);
      if (select === 'sequence') return v;
      return { tensor: poolToVector(v.tensor, select as PoolMode, v.lengths) };
    },
  };
};
