// Window pooling over B x T x D as tfjs ops: windows of `window` frames every `stride` frames, summarised by the mean
// or max of their valid frames, with each row's window count. Phase 6 (lower) wires it; phase 7 runs it.

import * as tf from '@tensorflow/tfjs';
import { clipLengths, stepMask } from '../../../runtime/nn/conv.js';
import { countWindows } from './define.js';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Windows per row: those starting before the row's true length (at least one). */
export function windowLengths(lengths: Int32Array, T: number, stride: number): Int32Array {
  return Int32Array.from(clipLengths(lengths.length, T, lengths), (l) => Math.max(1, Math.ceil(l / stride)));
}

/**
 * B x T x D -> B x ceil(T / stride) x D. Frames past a row's length (and past T, for the last windows) are not part
 * of any summary; a window with no valid frame is 0. Computed without gathers: frames are first reduced in blocks of
 * g = gcd(window, stride) (one reshape), then each window combines window / g consecutive blocks, read as slices of
 * the blocks viewed [rows, stride / g]; for non-overlapping windows (window = stride) that is one reshape and one
 * reduction, so 10^4 frames cost a single pass.
 */
export function poolWindows(x: tf.Tensor3D, window0: number, stride0: number, op: 'mean' | 'max', lengths?: Int32Array): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, D] = x.shape;
    // A window (or stride) longer than the sequence covers the same frames as one of length T: `window: 100000`
    // summarises each whole session without padding it to 10^5 frames.
    const window = Math.min(window0, T);
    const stride = Math.min(stride0, T);
    const n = countWindows(T, stride);
    const g = gcd(window, stride);
    const w = window / g;
    const s = stride / g;
    const rows = n - 1 + Math.ceil(w / s);
    const nb = rows * s;
    const Tp = nb * g;
    const mask = stepMask(B, T, lengths);
    const padT: [number, number][] = [[0, 0], [0, Tp - T], [0, 0]];
    const maskP = tf.reshape(tf.pad(mask, padT), [B, nb, g, 1]);
    // Frame counts per block, then per window.
    const blockCount = tf.sum(maskP, 2);
    let vals: tf.Tensor;
    if (op === 'mean') {
      vals = tf.sum(tf.reshape(tf.pad(tf.mul(x, mask), padT), [B, nb, g, D]), 2);
    } else {
      // Invalid frames get -1e30 so they never win a max; a window without valid frames is zeroed below.
      const pen = tf.mul(tf.sub(mask, 1), 1e30);
      vals = tf.max(tf.reshape(tf.pad(tf.add(x, pen), padT, -1e30), [B, nb, g, D]), 2);
    }
    const grid = tf.reshape(vals, [B, rows, s, D]);
    const countGrid = tf.reshape(blockCount, [B, rows, s, 1]);
    const at = (t: tf.Tensor, j: number, d: number) => tf.reshape(tf.slice(t, [0, Math.floor(j / s), j % s, 0], [B, n, 1, d]), [B, n, d]);
    let acc = at(grid, 0, D);
    let count = at(countGrid, 0, 1);
    for (let j = 1; j < w; j++) {
      acc = op === 'mean' ? tf.add(acc, at(grid, j, D)) : tf.maximum(acc, at(grid, j, D));
      count = tf.add(count, at(countGrid, j, 1));
    }
    const any = tf.cast(tf.greater(count, 0), 'float32');
    if (op === 'mean') return tf.div(acc, tf.maximum(count, 1)) as tf.Tensor3D;
    return tf.mul(acc, any) as tf.Tensor3D;
  });
}
