// TFN's tensor fusion: a 1 prepended to each input, then the outer product flattened with the first input slowest.
// Phase 6 builds it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { isNativeMatMulActive } from '../../../runtime/backend.js';
import { prependOne } from '../../../runtime/nn/layers.js';

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
