// Lowering of fusion 'low_rank' (LMF): `<input>_factor` [rank, d+1, out] and `fusion_weights` [1, rank] Xavier-normal
// (PyTorch fan rules), `fusion_bias` [1, out] zeros; per-modality 2-D matMuls (no broadcasting batch matMul under
// gradients, deps.md 1.5). Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import { createLowRankFusion } from './nn.js';
import type { LowRankFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { factorName } from './define.js';

export default defineNodeLowering<LowRankFusion>('fusion', (node, ctx) => {
  // The names the shape rule declared (`audio_factor` after the spec's input names).
  const factorNames = ctx.inputs.map((inp, i) => factorName(node.config, i, inp.name));
  const fusion = createLowRankFusion(
    ctx.store,
    node.id,
    ctx.inputs.map((i) => outDim(i)),
    node.config.rank,
    { outDim: node.config.out, factorNames },
  );
  return {
    apply(inputs) {
      return { tensor: fusion.apply(inputs.map((v) => v.tensor as tf.Tensor2D)).output };
    },
  };
});
