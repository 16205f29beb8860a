// Attention weights (softmax over scores with MulT's causal mask and dropout on the weights): with the native kernels
// (one-pass gradient) and as tensor ops, forward and gradient against a float64 reference.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNativeMatMulActive, setupBackend } from '../../../src/runtime/backend.js';
import { additiveMask, attentionWeights } from '../../../src/runtime/nn/attention.js';
import { futureMask } from '../../../src/runtime/nn/transformer.js';
import { nativeDisabled } from '../../helpers/native.js';
import { maxAbsDiff, randn } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});
afterAll(async () => {
  await setupBackend('wasm');
});

const [R0, Tq, Tk] = [3, 4, 6];
const scores = randn(11, R0 * Tq * Tk).map((v) => v * 3);
const mask = futureMask(Tq, Tk);
const drop = randn(12, R0 * Tq * Tk).map((v) => (v > 0.3 ? 0 : 1 / 0.7));
const upstream = randn(13, R0 * Tq * Tk);

/** Float64: y = softmax(x + mask) * drop, and d(sum(y * upstream))/dx. */
function reference(): { y: number[]; dx: number[] } {
  const y: number[] = [];
  const dx: number[] = [];
  for (let r = 0; r < R0 * Tq; r++) {
    const row = Array.from({ length: Tk }, (_, c) => (mask[(r % Tq) * Tk + c] ? Number.NEGATIVE_INFINITY : scores[r * Tk + c]!));
    const mx = Math.max(...row);
    const e = row.map((v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / z);
    const g = p.map((_, c) => upstream[r * Tk + c]! * drop[r * Tk + c]!);
    const s = g.reduce((a, v, c) => a + v * p[c]!, 0);
    p.forEach((v, c) => {
      y.push(v * drop[r * Tk + c]!);
      dx.push(v * (g[c]! - s));
    });
  }
  return { y, dx };
}

function run(): { y: Float32Array; dx: Float32Array } {
  const x = tf.tensor3d(scores, [R0, Tq, Tk]);
  const d = { tensor: tf.tensor3d(drop, [R0, Tq, Tk]), host: Float32Array.from(drop) };
  const up = tf.tensor3d(upstream, [R0, Tq, Tk]);
  const m = additiveMask(mask, Tq, Tk);
  const y = attentionWeights(x, m, d).dataSync() as Float32Array;
  const dx = tf.grad((s: tf.Tensor) => tf.sum(tf.mul(attentionWeights(s, m, d), up)))(x).dataSync() as Float32Array;
  return { y, dx };
}

describe('attention weights', () => {
  it.skipIf(nativeDisabled)('native kernels (one-pass gradient): equal to the float64 reference', async () => {
    await setupBackend('wasm', { native: 'on' });
    expect(isNativeMatMulActive()).toBe(true);
    const ref = reference();
    const got = run();
    expect(maxAbsDiff(got.y, ref.y)).toBeLessThan(1e-6);
    expect(maxAbsDiff(got.dx, ref.dx)).toBeLessThan(1e-5);
    // Masked positions get exactly zero weight and zero gradient.
    expect(got.y[3]).toBe(0);
    expect(Math.abs(got.dx[3]!)).toBe(0);
  });

  it('tensor ops (no native kernels): the same maths', async () => {
    await setupBackend('wasm', { native: 'off' });
    expect(isNativeMatMulActive()).toBe(false);
    const ref = reference();
    const got = run();
    expect(maxAbsDiff(got.y, ref.y)).toBeLessThan(1e-6);
    expect(maxAbsDiff(got.dx, ref.dx)).toBeLessThan(1e-5);
  });
});
