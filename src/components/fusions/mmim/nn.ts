// MMIM's bounds (models/singleTask/MMIM.py): the Gaussian log-likelihood lld of MMILB and CPC's NCE over unit-normalised
// rows. Phase 6 wires them, phase 7 runs them.

import * as tf from '@tensorflow/tfjs';

/** MMILB's lld: mean over the batch of sum over dims of -(mu - y)^2 / (2 exp(logvar)). */
export function gaussianLld(mu: tf.Tensor2D, logvar: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.div(tf.neg(tf.square(tf.sub(mu, y))), tf.mul(2, tf.exp(logvar))), -1)) as tf.Scalar);
}

/**
 * CPC's NCE: with x and x-hat normalised to unit rows, -mean_i(<x_i, xhat_i> - logsumexp_j <x_i, xhat_j>). MMSA divides
 * by the plain L2 norm (no epsilon), so a zero row gives NaN there too.
 */
export function cpcNce(x: tf.Tensor2D, xPred: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const unit = (t: tf.Tensor2D) => tf.div(t, tf.norm(t, 'euclidean', 1, true));
    const a = unit(x);
    const b = unit(xPred);
    const pos = tf.sum(tf.mul(a, b), -1);
    const neg = tf.logSumExp(tf.matMul(a, b, false, true), -1);
    return tf.neg(tf.mean(tf.sub(pos, neg))) as tf.Scalar;
  });
}
