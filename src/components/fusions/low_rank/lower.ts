// Lowering of fusion 'low_rank' (LMF): `<input>_factor` [rank, d+1, out] and `fusion_weights` [1, rank] Xavier-normal
// (PyTorch fan rules), `fusion_bias` [1, out] zeros; per-modality 2-D matMuls (no broadcasting batch matMul under
// gradients, deps.md 1.5). Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import { createLowRankFusion } from './nn.js';
import { cfgNumber, outDim, type NodeLowering } from '../../../runtime/lower/node.js';

export const lowerLowRankFusion: NodeLowering = (node, ctx) => {
  // Factor names follow the spec's input names (catalog: `audio_factor`), falling back to the IR input's name.
  const names = node.config['inputs'];
  const factorNames = ctx.inputs.map((inp, i) => {
    const n = Array.isArray(names) && typeof names[i] === 'string' ? (names[i] as string) : inp.name;
    return `${n}_factor`;
  });
  const fusion = createLowRankFusion(
    ctx.store,
    node.id,
    ctx.inputs.map((i) => outDim(i)),
    cfgNumber(node, 'rank'),
    { outDim: cfgNumber(node, 'out', 1), factorNames },
  );
  return {
    apply(inputs) {
      return { tensor: fusion.apply(inputs.map((v) => v.tensor as tf.Tensor2D)).output };
    },
  };
};
