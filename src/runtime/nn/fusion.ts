// Fusion operators of the reference models: tensor fusion (TFN), low-rank fusion (LMF), early fusion (concat per
// time step), time-mean pooling and TFN's frozen output range. Phase 6 builds them, phase 7 runs them.
import * as tf from '@tensorflow/tfjs';
import { isNativeMatMulActive } from '../backend.js';
import { constantInit, xavierNormalInit, zerosInit } from './init.js';
import type { ParamStore } from './params.js';

/** Prepend a constant-1 column: [1; x] (B x d -> B x (d+1)), as TFN and LMF do. */
export function prependOne(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([tf.ones([x.shape[0], 1]), x], 1) as tf.Tensor2D;
}

/**
 * TFN tensor fusion: z = [1;x_0] (x) [1;x_1] (x) ... flattened with the first input slowest. TFN passes
 * (audio, video, text): z[(i*(dv+1) + j)*(dt+1) + k] = a_i v_j t_k. Uses expandDims+mul (einsum is bridged on wasm).
 */
export function tensorFusion(inputs: readonly tf.Tensor2D[]): tf.Tensor2D {
  if (inputs.length === 0) throw new Error('tensorFusion needs at least one input');
  const B = inputs[0]!.shape[0];
  // With the native GEMM, each outer product is a batched matMul (B x dz x 1 times B x 1 x dx): the same products,
  // and gradients that are batched matMuls too instead of a broadcast multiply's transposing Sum over B x dz x dx.
  const asMatMul = isNativeMatMulActive();
  let z = prependOne(inputs[0]!) as tf.Tensor2D;
  for (const x of inputs.slice(1)) {
    const xh = prependOne(x);
    const outer = asMatMul
      ? tf.matMul(tf.expandDims(z, 2) as tf.Tensor3D, tf.expandDims(xh, 1) as tf.Tensor3D)
      : tf.mul(tf.expandDims(z, 2), tf.expandDims(xh, 1));
    z = tf.reshape(outer, [B, -1]) as tf.Tensor2D;
  }
  return z;
}

export function tensorFusionSize(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * (d + 1), 1);
}

export interface OutputRange {
  range: tf.Variable;
  shift: tf.Variable;
  /** sigmoid(y) * range + shift, TFN's (-3, 3) output. */
  apply(y: tf.Tensor): tf.Tensor;
}

/** TFN's output_range (6) and output_shift (-3): registered, never trained (buffers here). */
export function createOutputRange(store: ParamStore, path: string, range = 6, shift = -3): OutputRange {
  const r = store.buffer(path, 'output_range', [1], constantInit(range));
  const s = store.buffer(path, 'output_shift', [1], constantInit(shift));
  return { range: r, shift: s, apply: (y) => tf.add(tf.mul(tf.sigmoid(y), r), s) };
}

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

/** EF_LSTM early fusion: concatenate B x L x D_m inputs along features (all must share L). */
export function earlyFusion(inputs: readonly tf.Tensor3D[]): tf.Tensor3D {
  const L = inputs[0]?.shape[1];
  for (const x of inputs) if (x.shape[1] !== L) throw new Error(`earlyFusion: sequence lengths differ (${inputs.map((i) => i.shape[1]).join(' vs ')})`);
  return tf.concat(inputs as tf.Tensor3D[], 2) as tf.Tensor3D;
}

/** Mean over the padded time axis (B x T x D -> B x D), padding included, as MMSA's time-averaged features. */
export function timeMean(x: tf.Tensor3D): tf.Tensor2D {
  return tf.mean(x, 1) as tf.Tensor2D;
}

/** Plain concat of B x D_m features (late fusion). */
export function concatFeatures(inputs: readonly tf.Tensor2D[]): tf.Tensor2D {
  return tf.concat(inputs as tf.Tensor2D[], 1) as tf.Tensor2D;
}
