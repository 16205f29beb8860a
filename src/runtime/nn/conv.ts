// Temporal convolution and length masks for B x T x D sequences, shared by the CNN encoders (text_cnn, gated_cnn,
// dilated_tcn) and window pooling. Phase 6 (lower) builds them; phase 7 runs them.

import * as tf from '@tensorflow/tfjs';
import { linearInit } from './init.js';
import { linear } from './layers.js';
import type { ParamStore } from './params.js';

export type ConvPadding = 'same' | 'valid';

export interface Conv1d {
  path: string;
  kernel: number;
  dilation: number;
  /** B x T x D -> B x T' x out; T' = T ('same') or T - dilation * (kernel - 1) ('valid'). */
  apply(x: tf.Tensor3D, padding: ConvPadding): tf.Tensor3D;
}

/**
 * nn.Conv1d(in, out, kernel, dilation) with PyTorch's parameter layout (`weight` [out, in, kernel], `bias` [out]) and
 * default initialisation, on time-major B x T x D input. Computed as one matMul over the stacked shifted inputs
 * (im2col) instead of tf.conv1d: tfjs has no gradient for dilated convolutions, and the wasm backend's conv kernels
 * are not faster than its matMul at these sizes. 'same' pads like torch's `padding='same'` (left = total // 2).
 */
export function createConv1d(store: ParamStore, path: string, inSize: number, outSize: number, kernel: number, dilation = 1): Conv1d {
  const fanIn = inSize * kernel;
  const weight = store.param(path, 'weight', [outSize, inSize, kernel], linearInit(fanIn));
  const bias = store.param(path, 'bias', [outSize], linearInit(fanIn));
  const span = dilation * (kernel - 1);
  return {
    path,
    kernel,
    dilation,
    apply(x, padding) {
      const [B, T, D] = x.shape;
      const left = padding === 'same' ? Math.floor(span / 2) : 0;
      const right = padding === 'same' ? span - left : 0;
      const xp = left + right > 0 ? tf.pad(x, [[0, 0], [left, right], [0, 0]]) : x;
      const steps = T + left + right - span;
      if (steps < 1) throw new Error(`internal: conv '${path}' over ${T} steps needs at least ${span + 1}`);
      if (kernel === 1) return linear(xp, tf.reshape(weight, [outSize, inSize]), bias) as tf.Tensor3D;
      const taps: tf.Tensor[] = [];
      for (let k = 0; k < kernel; k++) taps.push(tf.slice(xp, [0, k * dilation, 0], [B, steps, D]));
      // Taps side by side on the feature axis ([B, T', K * D], index k * D + d: contiguous blocks, a cheap concat and
      // a cheap gradient), against the weight reordered to [out, K, in]: stacking on a new innermost axis instead
      // interleaves single floats and was 5x slower on wasm at 10^4 frames.
      const cols = tf.concat(taps, 2);
      const w = tf.reshape(tf.transpose(weight, [0, 2, 1]), [outSize, kernel * inSize]);
      return linear(cols, w, bias) as tf.Tensor3D;
    },
  };
}

/** Lengths clipped to [1, T]; every row full when there are none. */
export function clipLengths(B: number, T: number, lengths?: Int32Array): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) out[b] = Math.max(1, Math.min(T, lengths ? (lengths[b] ?? T) : T));
  return out;
}

/** B x T x 1 mask, 1 on the first `lengths[b]` steps of row b (all ones without lengths). */
export function stepMask(B: number, T: number, lengths?: Int32Array): tf.Tensor3D {
  const m = new Float32Array(B * T);
  const l = clipLengths(B, T, lengths);
  for (let b = 0; b < B; b++) m.fill(1, b * T, b * T + l[b]!);
  return tf.tensor3d(m, [B, T, 1]);
}

/** Padded steps set to 0, so a convolution's context never reads them. */
export function zeroPadding(x: tf.Tensor3D, lengths?: Int32Array): tf.Tensor3D {
  if (!lengths) return x;
  return tf.mul(x, stepMask(x.shape[0], x.shape[1], lengths));
}

/** Mean over each row's valid steps (not the padded ones: MMSA's time mean over padding is `preprocess.time_mean`). */
export function maskedMean(x: tf.Tensor3D, lengths?: Int32Array): tf.Tensor2D {
  if (!lengths) return tf.mean(x, 1) as tf.Tensor2D;
  const [B, T] = x.shape;
  const l = clipLengths(B, T, lengths);
  const inv = tf.tensor2d(Array.from(l, (v) => 1 / v), [B, 1]);
  return tf.mul(tf.sum(tf.mul(x, stepMask(B, T, l)), 1), inv) as tf.Tensor2D;
}

/** Maximum over each row's valid steps; padded steps can never win. */
export function maskedMax(x: tf.Tensor3D, lengths?: Int32Array): tf.Tensor2D {
  if (!lengths) return tf.max(x, 1) as tf.Tensor2D;
  const [B, T] = x.shape;
  // -1e30 on padded steps: they lose to any real value, and their gradient is 0.
  const pen = tf.mul(tf.sub(stepMask(B, T, lengths), 1), 1e30);
  return tf.max(tf.add(x, pen), 1) as tf.Tensor2D;
}

export type TimePool = 'mean' | 'max';

export function poolSteps(x: tf.Tensor3D, op: TimePool, lengths?: Int32Array): tf.Tensor2D {
  return op === 'max' ? maskedMax(x, lengths) : maskedMean(x, lengths);
}
