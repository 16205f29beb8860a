// Attention as one differentiable op (MulT's scores, causal mask, dropout on the weights, times v): with the native
// kernels (one-pass softmax gradient) and as tensor ops, forward and gradients against a float64 reference; keeping
// the weights or recomputing them in the backward pass gives the same bits, and recomputing frees them.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNativeMatMulActive, setupBackend } from '../../../src/runtime/backend.js';
import { additiveMask, attentionOp, type AttentionActivations } from '../../../src/runtime/nn/attention.js';
import { futureMask } from '../../../src/runtime/nn/transformer.js';
import { nativeDisabled } from '../../helpers/native.js';
import { maxAbsDiff, randn } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});
afterAll(async () => {
  await setupBackend('wasm');
});

const [R0, Tq, Tk, dh] = [3, 4, 6, 5];
const q = randn(11, R0 * Tq * dh);
const kT = randn(14, R0 * dh * Tk).map((v) => v * 1.5);
const v = randn(15, R0 * Tk * dh);
const mask = futureMask(Tq, Tk);
const drop = randn(12, R0 * Tq * Tk).map((x) => (x > 0.3 ? 0 : 1 / 0.7));
const upstream = randn(13, R0 * Tq * dh);

/** Float64: out = (softmax(q kT + mask) * drop) v, and the gradients of sum(out * upstream) towards q, kT and v. */
function reference(): { out: number[]; dq: number[]; dk: number[]; dv: number[] } {
  const out = new Array<number>(R0 * Tq * dh).fill(0);
  const dq = new Array<number>(R0 * Tq * dh).fill(0);
  const dk = new Array<number>(R0 * dh * Tk).fill(0);
  const dv = new Array<number>(R0 * Tk * dh).fill(0);
  for (let r = 0; r < R0; r++) {
    const Q = (i: number, c: number) => q[(r * Tq + i) * dh + c]!;
    const K = (c: number, j: number) => kT[(r * dh + c) * Tk + j]!;
    const V = (j: number, c: number) => v[(r * Tk + j) * dh + c]!;
    const U = (i: number, c: number) => upstream[(r * Tq + i) * dh + c]!;
    const D = (i: number, j: number) => drop[(r * Tq + i) * Tk + j]!;
    for (let i = 0; i < Tq; i++) {
      const s = Array.from({ length: Tk }, (_, j) => (mask[i * Tk + j] ? Number.NEGATIVE_INFINITY : Array.from({ length: dh }, (_, c) => Q(i, c) * K(c, j)).reduce((a, b) => a + b, 0)));
      const mx = Math.max(...s);
      const e = s.map((x) => Math.exp(x - mx));
      const z = e.reduce((a, b) => a + b, 0);
      const p = e.map((x) => x / z);
      const y = p.map((x, j) => x * D(i, j));
      for (let c = 0; c < dh; c++) out[(r * Tq + i) * dh + c] = y.reduce((a, yj, j) => a + yj * V(j, c), 0);
      const dY = Array.from({ length: Tk }, (_, j) => Array.from({ length: dh }, (_, c) => U(i, c) * V(j, c)).reduce((a, b) => a + b, 0));
      for (let j = 0; j < Tk; j++) for (let c = 0; c < dh; c++) dv[(r * Tk + j) * dh + c]! += y[j]! * U(i, c);
      const g = dY.map((x, j) => x * D(i, j));
      const sum = g.reduce((a, x, j) => a + x * p[j]!, 0);
      const ds = p.map((x, j) => x * (g[j]! - sum));
      for (let c = 0; c < dh; c++) dq[(r * Tq + i) * dh + c] = ds.reduce((a, x, j) => a + x * K(c, j), 0);
      for (let c = 0; c < dh; c++) for (let j = 0; j < Tk; j++) dk[(r * dh + c) * Tk + j]! += Q(i, c) * ds[j]!;
    }
  }
  return { out, dq, dk, dv };
}

function run(mode: AttentionActivations): { out: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  return tf.tidy(() => {
    const [tq, tk, tv] = [tf.tensor3d(q, [R0, Tq, dh]), tf.tensor3d(kT, [R0, dh, Tk]), tf.tensor3d(v, [R0, Tk, dh])];
    const d = { host: Float32Array.from(drop) };
    const up = tf.tensor3d(upstream, [R0, Tq, dh]);
    const m = additiveMask(mask, Tq, Tk);
    const out = attentionOp(tq, tk, tv, m, d, mode).dataSync() as Float32Array;
    const [dq, dk, dv] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attentionOp(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, m, d, mode), up)))([tq, tk, tv]);
    return { out, dq: dq!.dataSync() as Float32Array, dk: dk!.dataSync() as Float32Array, dv: dv!.dataSync() as Float32Array };
  });
}

function expectReference(got: ReturnType<typeof run>): void {
  const ref = reference();
  expect(maxAbsDiff(got.out, ref.out)).toBeLessThan(1e-5);
  expect(maxAbsDiff(got.dq, ref.dq)).toBeLessThan(1e-5);
  expect(maxAbsDiff(got.dk, ref.dk)).toBeLessThan(1e-5);
  expect(maxAbsDiff(got.dv, ref.dv)).toBeLessThan(1e-5);
}

describe('attention op', () => {
  it.skipIf(nativeDisabled)('native kernels (one-pass softmax gradient): equal to the float64 reference; recompute gives the bits of keep', async () => {
    await setupBackend('wasm', { native: 'on' });
    expect(isNativeMatMulActive()).toBe(true);
    const keep = run('keep');
    expectReference(keep);
    expect(run('recompute')).toEqual(keep);
  });

  it('tensor ops (no native kernels): the same maths; recompute gives the bits of keep', async () => {
    await setupBackend('wasm', { native: 'off' });
    expect(isNativeMatMulActive()).toBe(false);
    const keep = run('keep');
    expectReference(keep);
    expect(run('recompute')).toEqual(keep);
  });

  it('keeps the weights for the backward pass only when asked to: recompute holds nothing of B x heads x Tq x Tk', async () => {
    await setupBackend('wasm', { native: 'off' });
    const [B, T] = [8, 64];
    const held = (mode: AttentionActivations): number => {
      let bytes = 0;
      tf.tidy(() => {
        const [a, b, c] = [tf.randomNormal([B, T, 4]), tf.randomNormal([B, 4, T]), tf.randomNormal([B, T, 4])].map((t) => tf.variable(t)) as tf.Variable[];
        tf.variableGrads(() => {
          const before = tf.memory().numBytes;
          const out = tf.sum(attentionOp(a as unknown as tf.Tensor3D, b as unknown as tf.Tensor3D, c as unknown as tf.Tensor3D, undefined, { host: new Float32Array(B * T * T).fill(1) }, mode));
          bytes = tf.memory().numBytes - before;
          return out as tf.Scalar;
        }, [a!, b!, c!]);
        for (const x of [a, b, c]) x!.dispose();
      });
      return bytes;
    };
    const weights = 4 * B * T * T;
    // keep: the softmax output (one B x T x T tensor) on top of the op's output; recompute: no weights at all.
    const [keep, recompute] = [held('keep'), held('recompute')];
    expect(keep - recompute).toBeGreaterThanOrEqual(weights);
    expect(keep - recompute).toBeLessThan(2 * weights);
    expect(recompute).toBeLessThan(weights / 2);
  });
});
