// Lowering of encoder 'precomputed': no parameters; the [CLS] row, the padded time-mean or the mean over the real
// tokens of a token mask, the last valid step (by true lengths when the modality has them) or the sequence as it is.
// Phase 6 (lower).

import type { PrecomputedEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue } from '../../../runtime/lower/node.js';
import { maskedMeanSteps, poolToVector, tokenRow } from '../../../runtime/nn/pool.js';

export default defineNodeLowering<PrecomputedEncoder>('encoder', (node) => {
  const { select, mask_from: maskFrom } = node.config;
  return {
    apply(inputs) {
      const v = firstValue(node, inputs);
      if (select === 'sequence') return v;
      // The same arithmetic as the bert encoder's `output: mean`, so frozen BERT's fast path gives its numbers.
      if (maskFrom) return { tensor: maskedMeanSteps(v.tensor, tokenRow(inputs[1]!.tensor, 1)) };
      return { tensor: poolToVector(v.tensor, select, v.lengths) };
    },
  };
});
