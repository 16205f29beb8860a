// Sequence-to-vector pooling used by encoders (precomputed select, mlp pool, subnet time-mean): first row, padded
// time-mean, last row or last valid step by true lengths. Phase 6 (lower) wires them; phase 7 runs them.

import * as tf from '@tensorflow/tfjs';

/** Row 0 of B x T x D ([CLS] of BERT features). */
export function firstStep(x: tf.Tensor): tf.Tensor2D {
  const [B, , D] = x.shape as [number, number, number];
  return tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, D]), [B, D]);
}

/** Mean over the padded time axis, padding included (MMSA's need_normalized). */
export function meanSteps(x: tf.Tensor): tf.Tensor2D {
  return tf.mean(x, 1) as tf.Tensor2D;
}

/** Row r of a [B, 3, L] token tensor (text_bert: ids, attention mask, segment ids) as [B, L]. */
export function tokenRow(tokens: tf.Tensor, r: number): tf.Tensor2D {
  const [b, , l] = tokens.shape as [number, number, number];
  return tf.reshape(tf.slice(tokens, [0, r, 0], [b, 1, l]), [b, l]);
}

/**
 * Mean over the real tokens of B x T x D by a B x T attention mask (MISA's utterance_text: the masked sum over the
 * mask's sum); a row with no real token gives zeros instead of a division by zero.
 */
export function maskedMeanSteps(x: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
  const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
  return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
}

/**
 * Last valid step per row (step len-1) when lengths are known, else the last row. A one-hot mask and a sum instead
 * of gather: the gradient then needs no UnsortedSegmentSum (missing on wasm) and stays dense.
 */
export function lastStep(x: tf.Tensor, lengths?: Int32Array): tf.Tensor2D {
  const [B, T, D] = x.shape as [number, number, number];
  if (!lengths) return tf.reshape(tf.slice(x, [0, T - 1, 0], [B, 1, D]), [B, D]);
  const mask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const l = Math.max(1, Math.min(T, lengths[b] ?? T));
    mask[b * T + l - 1] = 1;
  }
  return tf.sum(tf.mul(x, tf.tensor3d(mask, [B, T, 1])), 1) as tf.Tensor2D;
}

export type PoolMode = 'first' | 'cls' | 'mean' | 'last';

/** A vector passes through; a sequence is pooled. */
export function poolToVector(x: tf.Tensor, mode: PoolMode, lengths?: Int32Array): tf.Tensor2D {
  if (x.rank === 2) return x as tf.Tensor2D;
  if (mode === 'first' || mode === 'cls') return firstStep(x);
  if (mode === 'last') return lastStep(x, lengths);
  return meanSteps(x);
}

export type Activation = 'relu' | 'tanh' | 'gelu';

export function activate(x: tf.Tensor, a: string): tf.Tensor {
  if (a === 'tanh') return tf.tanh(x);
  // torch's nn.LeakyReLU default slope
  if (a === 'leaky_relu') return tf.leakyRelu(x, 0.01);
  // exact (erf) GELU, as torch's default
  if (a === 'gelu') return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
  return tf.relu(x);
}
