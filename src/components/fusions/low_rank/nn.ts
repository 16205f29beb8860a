// LMF's low-rank fusion as a tfjs block: rank-r factors per input, fusion weights and bias, with MMSA's names.
// Phase 6 builds it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { xavierNormalInit, zerosInit } from '../../../runtime/nn/init.js';
import { prependOne } from '../../../runtime/nn/layers.js';
import type { ParamStore } from '../../../runtime/nn/params.js';

export interface LowRankFusion {
  path: string;
  factors: tf.Variable[];
  fusionWeights: tf.Variable;
  fusionBias: tf.Variable;
  /** output B x outDim; z = per-rank products, B x (rank*outDim) (MMSA's fusion feature). */
  apply(inputs: readonly tf.Tensor2D[]): { output: tf.Tensor2D; z: tf.Tensor2D };
}

/**
 * LMF low-rank fusion. Factor m: rank x (d_m+1) x out (Xavier-normal, PyTorch 3-D fan rules), fusion_weights 1 x rank
 * (Xavier-normal), fusion_bias 1 x out (0). factorNames defaults to MMSA's (audio, video, text) order.
 * The rank-batched matMul is done as one 2-D matMul per modality: a broadcasting batch matMul has a broken gradient
 * in tfjs 4.22 (deps.md 1.5).
 */
export function createLowRankFusion(
  store: ParamStore,
  path: string,
  dims: readonly number[],
  rank: number,
  opts: { outDim?: number; factorNames?: readonly string[] } = {},
): LowRankFusion {
  const outDim = opts.outDim ?? 1;
  const names = opts.factorNames ?? ['audio_factor', 'video_factor', 'text_factor'];
  if (names.length !== dims.length) throw new Error(`${path}: ${dims.length} inputs but ${names.length} factor names`);
  const factors = dims.map((d, i) => store.param(path, names[i]!, [rank, d + 1, outDim], xavierNormalInit()));
  const fusionWeights = store.param(path, 'fusion_weights', [1, rank], xavierNormalInit());
  const fusionBias = store.param(path, 'fusion_bias', [1, outDim], zerosInit);
  return {
    path,
    factors,
    fusionWeights,
    fusionBias,
    apply: (inputs) => {
      if (inputs.length !== factors.length) throw new Error(`${path}: expected ${factors.length} inputs, got ${inputs.length}`);
      const B = inputs[0]!.shape[0];
      let z: tf.Tensor | undefined;
      inputs.forEach((x, i) => {
        const w = factors[i]!;
        const d1 = w.shape[1]!;
        const w2 = tf.reshape(tf.transpose(w, [1, 0, 2]), [d1, rank * outDim]) as tf.Tensor2D;
        const proj = tf.reshape(tf.matMul(prependOne(x), w2), [B, rank, outDim]);
        z = z ? tf.mul(z, proj) : proj;
      });
      const weighted = tf.sum(tf.mul(z!, tf.reshape(fusionWeights, [1, rank, 1])), 1);
      return { output: tf.add(weighted, fusionBias) as tf.Tensor2D, z: tf.reshape(z!, [B, rank * outDim]) as tf.Tensor2D };
    },
  };
}
