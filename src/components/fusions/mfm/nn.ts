// MFM's own maths (models/singleTask/MFM.py): the LSTMCell decoder that feeds back its own hidden state, and the MMD
// of a factor against a Gaussian sample with MMSA's kernel. Phase 6 wires it, phase 7 runs it.

import * as tf from '@tensorflow/tfjs';
import { lstmRecurrence } from '../../../runtime/nn/lstm-fused.js';
import type { LstmCell } from '../mfn/nn.js';

/**
 * MMSA's decoderLSTM: an LSTMCell(H, H) from zero states, fed f at step 0 and its own previous hidden state after,
 * for T steps; returns h_0 .. h_{T-1} (B x T x H). Feeding h_{t-1} as the input makes the gates
 * W_ih h_{t-1} + W_hh h_{t-1} + b: one LSTM whose recurrent weight is W_ih + W_hh and whose input projection is
 * W_ih f + b at step 0 and b after, so the whole decoder runs through the fused recurrence.
 */
export function runFeedbackDecoder(f: tf.Tensor2D, cell: LstmCell, T: number): tf.Tensor3D {
  const [B, H] = f.shape;
  const G = 4 * H;
  // W_ih f at step 0, zeros after, plus the biases at every step. (Not tf.broadcastTo: its gradient, tfjs's Tile
  // gradient, slices dy once per repetition, and the wasm backend copies all of dy for each slice.)
  const first = tf.reshape(tf.matMul(f, cell.wih, false, true), [B, 1, G]);
  const xproj = tf.add(T === 1 ? first : tf.pad(first, [[0, 0], [0, T - 1], [0, 0]]), tf.add(cell.bih, cell.bhh)) as tf.Tensor3D;
  const y = lstmRecurrence(xproj, tf.add(cell.wih, cell.whh) as tf.Tensor2D, new Int32Array(B).fill(T), false);
  return tf.slice(y, [0, 0, 0], [B, T, H]) as tf.Tensor3D;
}

/**
 * MMSA's compute_kernel: k(x_i, y_j) = exp(-mean_d (x_id - y_jd)^2 / dim) for x [n, dim], y [m, dim]. The extra
 * division by dim is MMSA's (and InfoVAE's, whose code MFM's follows); divDim false leaves it out.
 */
export function mmdKernel(x: tf.Tensor2D, y: tf.Tensor2D, divDim: boolean): tf.Tensor2D {
  const dim = x.shape[1];
  const sq = tf.mean(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0))), 2);
  return tf.exp(tf.neg(divDim ? tf.div(sq, dim) : sq)) as tf.Tensor2D;
}

/** MMSA's loss_MMD: mean k(g, g) + mean k(z, z) - 2 mean k(g, z), g a standard Gaussian sample shaped like z. */
export function mmdLoss(z: tf.Tensor2D, g: tf.Tensor2D, divDim: boolean): tf.Scalar {
  return tf.tidy(() =>
    tf.sub(tf.add(tf.mean(mmdKernel(g, g, divDim)), tf.mean(mmdKernel(z, z, divDim))), tf.mul(2, tf.mean(mmdKernel(g, z, divDim)))) as tf.Scalar,
  );
}
