// MulT's transformer layers recomputed in the backward pass (nn/transformer.ts): keeping every activation and
// recomputing each layer give the same bits (loss and every gradient, with every dropout on, cross-modal and
// self-attention, native kernels and tensor ops), the recomputing op's gradients agree with finite differences (with
// the native LayerNorm and softmax passes and without), and recomputing holds a fraction of what keeping holds until
// the backward pass.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../src/runtime/backend.js';
import { ParamStore, trainCtx } from '../../../src/runtime/nn/params.js';
import { createTransformerEncoder, type TransformerEncoderOptions } from '../../../src/runtime/nn/transformer.js';
import type { AttentionActivations } from '../../../src/runtime/nn/attention.js';
import { nativeDisabled } from '../../helpers/native.js';
import { randn } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});
afterAll(async () => {
  await setupBackend('wasm');
});

const [B, Tq, Tk, d] = [2, 5, 7, 4];
const OPTS: TransformerEncoderOptions = { embedDim: d, numHeads: 2, layers: 2, attnDropout: 0.3, reluDropout: 0.2, resDropout: 0.1, embedDropout: 0.2, attnMask: true };

interface Run {
  loss: Float32Array;
  grads: Record<string, Float32Array>;
}

/** One training step's loss sum(out * upstream) and the gradients towards every weight and both inputs. */
function step(mode: AttentionActivations, cross: boolean, opts: Partial<TransformerEncoderOptions> = {}): Run {
  const store = new ParamStore({ seed: 3 });
  const enc = createTransformerEncoder(store, 'enc', { ...OPTS, ...opts, activations: mode });
  const x = tf.variable(tf.tensor3d(randn(21, B * Tq * d), [B, Tq, d]), true, `x_${store.id}`);
  const src = tf.variable(tf.tensor3d(randn(22, B * Tk * d), [B, Tk, d]), true, `src_${store.id}`);
  const up = tf.tensor3d(randn(23, B * Tq * d), [B, Tq, d]);
  const vars = [...store.entries().map((e) => e.variable), x, ...(cross ? [src] : [])];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.apply(x, cross ? src : undefined, trainCtx(9)), up)) as tf.Scalar, vars);
  const out: Run = { loss: value.dataSync() as Float32Array, grads: {} };
  for (const [name, g] of Object.entries(grads)) out.grads[name.replace(/^mmsa\d+\//, '').replace(/_\d+$/, '')] = g.dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads), up, ...vars]);
  return out;
}

function expectSameBits(a: Run, b: Run): void {
  expect(Array.from(b.loss)).toEqual(Array.from(a.loss));
  expect(Object.keys(b.grads).sort()).toEqual(Object.keys(a.grads).sort());
  for (const k of Object.keys(a.grads)) expect([k, Array.from(b.grads[k]!)]).toEqual([k, Array.from(a.grads[k]!)]);
}

describe('MulT transformer layer: keep or recompute', () => {
  for (const native of ['on', 'off'] as const) {
    it.skipIf(native === 'on' && nativeDisabled)(`recompute gives the bits of keep (loss, weight and input gradients; cross-modal and self-attention; native ${native})`, async () => {
      await setupBackend('wasm', { native });
      for (const cross of [true, false]) {
        const keep = step('keep', cross);
        // Every weight, the queries' input and (cross-modal) the source receive a gradient.
        expect(Object.keys(keep.grads)).toHaveLength(2 * 12 + 2 + 1 + (cross ? 1 : 0));
        expectSameBits(keep, step('recompute', cross));
      }
      // Dropout 1 (a mask of zeros, no draw) takes the same path in both modes.
      expectSameBits(step('keep', true, { resDropout: 1 }), step('recompute', true, { resDropout: 1 }));
    });
  }

  for (const native of ['on', 'off'] as const) it.skipIf(native === 'on' && nativeDisabled)(`the recomputing op agrees with finite differences along random directions (native ${native})`, async () => {
    await setupBackend('wasm', { native });
    const store = new ParamStore({ seed: 4 });
    const enc = createTransformerEncoder(store, 'enc', { ...OPTS, layers: 1, activations: 'recompute' });
    const x = tf.tensor3d(randn(31, B * Tq * d), [B, Tq, d]);
    const src = tf.tensor3d(randn(32, B * Tk * d), [B, Tk, d]);
    const up = tf.tensor3d(randn(33, B * Tq * d), [B, Tq, d]);
    const vars = store.entries().map((e) => e.variable);
    const loss = (): number => tf.tidy(() => tf.sum(tf.mul(enc.apply(x, src, trainCtx(9)), up)).dataSync()[0]!);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.apply(x, src, trainCtx(9)), up)) as tf.Scalar, vars);
    const g = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
    expect(loss()).toBe(value.dataSync()[0]);
    const base = vars.map((v) => v.dataSync().slice() as Float32Array);
    // Small enough not to cross a ReLU's kink along these directions (at 1e-2 one does), large for float32 rounding.
    const eps = 2e-3;
    for (let trial = 0; trial < 4; trial++) {
      const raw = vars.map((v, i) => randn(100 + 10 * trial + i, v.size));
      const norm = Math.sqrt(raw.reduce((a, u) => a + u.reduce((s, x) => s + x * x, 0), 0));
      const dir = raw.map((u) => Float32Array.from(u, (x) => x / norm));
      const analytic = dir.reduce((a, u, i) => a + u.reduce((s, ui, j) => s + ui * g[i]![j]!, 0), 0);
      const at = (t: number): number => {
        vars.forEach((v, i) => v.assign(tf.tensor(base[i]!.map((b, j) => b + t * dir[i]![j]!), v.shape)));
        return loss();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(numeric - analytic)).toBeLessThan(5e-3 * Math.max(1, Math.abs(analytic)));
    }
    vars.forEach((v, i) => v.assign(tf.tensor(base[i]!, v.shape)));
    tf.dispose([value, ...Object.values(grads), x, src, up, ...vars]);
  });

  it('recomputing holds a fraction of what keeping holds until the backward pass', async () => {
    await setupBackend('wasm', { native: 'off' });
    const [b, tq, tk, w] = [4, 48, 64, 20];
    const held = (mode: AttentionActivations): number => {
      const store = new ParamStore({ seed: 5 });
      const enc = createTransformerEncoder(store, 'enc', { embedDim: w, numHeads: 4, layers: 3, attnDropout: 0.2, attnMask: true, activations: mode });
      const x = tf.randomNormal([b, tq, w]) as tf.Tensor3D;
      const src = tf.randomNormal([b, tk, w]) as tf.Tensor3D;
      const vars = store.entries().map((e) => e.variable);
      let bytes = 0;
      const { value, grads } = tf.variableGrads(() => {
        const before = tf.memory().numBytes;
        const out = tf.sum(enc.apply(x, src, trainCtx(1)));
        bytes = tf.memory().numBytes - before;
        return out as tf.Scalar;
      }, vars);
      tf.dispose([value, ...Object.values(grads), x, src, ...vars]);
      return bytes;
    };
    const [keep, recompute] = [held('keep'), held('recompute')];
    const unit = 4 * b * tq * w;
    // What the forward leaves in the backend: keep, the attention weights (4 heads x 48 x 64 per sample) and ~200
    // [B, Tq, w]-sized tensors per layer; recompute, the cross-modal LayerNorms on the outer tape (~60).
    expect(keep).toBeGreaterThan(3 * (4 * 4 * tq * tk * 4 + 150 * unit));
    expect(recompute).toBeLessThan(3 * 70 * unit);
    expect(recompute).toBeLessThan(keep / 3);
  });
});
