import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { activeNativeKernels, setNativeMatMul, setupBackend } from '../../../src/runtime/backend.js';
import { nativeDisabled, requireNative } from '../../helpers/native.js';
import { Rng } from '../../../src/runtime/nn/init.js';
import { createLinear, dropoutMask, linear, useWideLinear, wideLinear } from '../../../src/runtime/nn/layers.js';
import { chooseRecurrentMatMul, lstmRecurrence, setDefaultRecurrentMatMul, type RecurrentMatMul } from '../../../src/runtime/nn/lstm-fused.js';
import { ParamStore, evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { createLstm } from '../../../src/runtime/nn/rnn.js';
import { flat, linearRef, lstmRef, maxAbsDiff, randn, reshape2, reshape3, type Mat } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});
afterEach(() => setDefaultRecurrentMatMul('auto'));

const w2 = (store: ParamStore, key: string): Mat => {
  const v = store.get(key);
  return reshape2(v.dataSync(), v.shape[0]!, v.shape[1]!);
};
const w1 = (store: ParamStore, key: string): number[] => Array.from(store.get(key).dataSync());

/** Gradients of loss = sum(outputs * target) + sum(h_n^2) by central differences of the float64 reference. */
function lstmLossRef(x: Mat[], wih: Mat, whh: Mat, bih: number[], bhh: number[], lens: number[], target: Mat[]): number {
  const r = lstmRef(x, wih, whh, bih, bhh, lens);
  let s = 0;
  r.out.forEach((seq, b) => seq.forEach((row, t) => row.forEach((v, q) => (s += v * target[b]![t]![q]!))));
  r.h.forEach((row) => row.forEach((v) => (s += v * v)));
  return s;
}

const MODES: RecurrentMatMul[] = nativeDisabled ? ['js', 'tf'] : ['js', 'tf', 'native'];

describe.each<RecurrentMatMul>(MODES)('fused LSTM with the recurrent matMul in %s', (mode) => {
  it('matches the float64 reference forward (packed, bidirectional, 2 layers) with outputs and h_n', () => {
    setDefaultRecurrentMatMul(mode);
    const store = new ParamStore({ seed: 41 });
    const B = 3, T = 6, D = 4, H = 5;
    const lstm = createLstm(store, 'rnn', { inputSize: D, hiddenSize: H, numLayers: 2, bidirectional: true, impl: 'fused' });
    const xs = randn(42, B * T * D);
    const lens = [6, 2, 4];
    const r = lstm.apply(tf.tensor3d(xs, [B, T, D]), evalCtx(), { lengths: lens, returnOutputs: true });
    // Layer 0 both directions against the reference; layer 1 reads the concatenated layer-0 outputs.
    const x = reshape3(xs, B, T, D);
    const k = (n: string, l: number, s: string) => `rnn.${n}_l${l}${s}`;
    const dir = (inp: Mat[], l: number, s: string, rev: boolean) =>
      lstmRef(inp, w2(store, k('weight_ih', l, s)), w2(store, k('weight_hh', l, s)), w1(store, k('bias_ih', l, s)), w1(store, k('bias_hh', l, s)), lens, rev);
    const f0 = dir(x, 0, '', false);
    const b0 = dir(x, 0, '_reverse', true);
    const cat = f0.out.map((seq, b) => seq.map((row, t) => [...row, ...b0.out[b]![t]!]));
    const f1 = dir(cat, 1, '', false);
    const b1 = dir(cat, 1, '_reverse', true);
    const refH = [f0.h, b0.h, f1.h, b1.h];
    r.hN.forEach((h, i) => expect(maxAbsDiff(h.dataSync(), flat(refH[i]))).toBeLessThan(1e-5));
    const outRef = f1.out.map((seq, b) => seq.map((row, t) => [...row, ...b1.out[b]![t]!]));
    expect(maxAbsDiff(r.outputs!.dataSync(), flat(outRef))).toBeLessThan(1e-5);
    store.dispose();
  });

  it('gradients of every weight match central differences of the float64 reference (packed)', () => {
    setDefaultRecurrentMatMul(mode);
    const store = new ParamStore({ seed: 43 });
    const B = 3, T = 5, D = 3, H = 4;
    const lstm = createLstm(store, 'rnn', { inputSize: D, hiddenSize: H, impl: 'fused' });
    const xs = randn(44, B * T * D);
    const tg = randn(45, B * T * H);
    const lens = [5, 2, 3];
    const { grads } = tf.variableGrads(() => {
      const r = lstm.apply(tf.tensor3d(xs, [B, T, D]), evalCtx(), { lengths: lens, returnOutputs: true });
      return tf.add(tf.sum(tf.mul(r.outputs!, tf.tensor3d(tg, [B, T, H]))), tf.sum(tf.square(r.last))) as tf.Scalar;
    }, store.trainableVariables());
    const x = reshape3(xs, B, T, D);
    const target = reshape3(tg, B, T, H);
    const names = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'];
    const vals = Object.fromEntries(names.map((n) => [n, Array.from(store.get(`rnn.${n}`).dataSync())]));
    const loss = (v: Record<string, number[]>) =>
      lstmLossRef(x, reshape2(v['weight_ih_l0']!, 4 * H, D), reshape2(v['weight_hh_l0']!, 4 * H, H), v['bias_ih_l0']!, v['bias_hh_l0']!, lens, target);
    for (const n of names) {
      const g = grads[store.get(`rnn.${n}`).name]!.dataSync();
      const num = vals[n]!.map((_, i) => {
        const eps = 1e-5;
        const plus = { ...vals, [n]: vals[n]!.map((v, j) => (j === i ? v + eps : v)) };
        const minus = { ...vals, [n]: vals[n]!.map((v, j) => (j === i ? v - eps : v)) };
        return (loss(plus) - loss(minus)) / (2 * eps);
      });
      expect(maxAbsDiff(g, num)).toBeLessThan(1e-4);
    }
    store.dispose();
  });
});

describe('fused LSTM paths agree', () => {
  it.each(MODES.filter((m) => m !== 'js'))('js and %s recurrences give the same outputs and gradients (text-LSTM-like, unpacked)', (other) => {
    const run = (mode: RecurrentMatMul) => {
      setDefaultRecurrentMatMul(mode);
      const store = new ParamStore({ seed: 51 });
      const lstm = createLstm(store, 'rnn', { inputSize: 12, hiddenSize: 16, impl: 'fused' });
      const x = tf.tensor3d(randn(52, 8 * 10 * 12), [8, 10, 12]);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(lstm.apply(x, evalCtx()).last)) as tf.Scalar, store.trainableVariables());
      const out = { loss: value.dataSync()[0]!, grads: store.entries().map((e) => Array.from(grads[e.variable.name]!.dataSync())) };
      store.dispose();
      return out;
    };
    const a = run('js');
    const b = run(other);
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    a.grads.forEach((g, i) => expect(maxAbsDiff(g, b.grads[i]!)).toBeLessThan(1e-5));
  });

  it('the eval path (no tape) returns the same values as the recorded path', () => {
    const r = new Rng(3);
    const B = 4, T = 7, H = 3;
    const xp = tf.tensor3d(Float32Array.from({ length: B * T * 4 * H }, () => r.normal()), [B, T, 4 * H]);
    const whh = tf.variable(tf.tensor2d(Float32Array.from({ length: 4 * H * H }, () => r.normal() * 0.3), [4 * H, H]));
    const lens = Int32Array.from([7, 3, 0, 5]);
    const evalY = lstmRecurrence(xp, whh, lens, true);
    let taped: Float32Array | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const y = lstmRecurrence(xp, whh, lens, true);
      taped = y.dataSync() as Float32Array;
      return tf.sum(y) as tf.Scalar;
    }, [whh]);
    expect(evalY.shape).toEqual([B, T + 1, H]);
    expect(maxAbsDiff(evalY.dataSync(), taped!)).toBe(0);
    // a zero-length row stays all zero, including its h_n slot
    expect(Array.from(evalY.dataSync().slice(2 * (T + 1) * H, 3 * (T + 1) * H)).every((v) => v === 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads), evalY, xp, whh]);
  });

  it('auto picks js for toy steps, tf from Self-MM sizes up on wasm without native kernels', () => {
    const active = activeNativeKernels();
    setNativeMatMul(undefined);
    try {
      expect(chooseRecurrentMatMul(3, 4, 'auto')).toBe('js');
      expect(chooseRecurrentMatMul(16, 16, 'auto')).toBe('tf');
      expect(chooseRecurrentMatMul(32, 128, 'auto')).toBe('tf');
      expect(chooseRecurrentMatMul(32, 128, 'js')).toBe('js');
      expect(() => chooseRecurrentMatMul(32, 128, 'native')).toThrow(/native kernels/);
    } finally {
      setNativeMatMul(active?.mod, active?.threads);
    }
  });

  it.skipIf(nativeDisabled)('auto picks the native recurrence whenever the native kernels back wasm', () => {
    requireNative();
    expect(activeNativeKernels()).toBeDefined();
    expect(chooseRecurrentMatMul(3, 4, 'auto')).toBe('native');
    expect(chooseRecurrentMatMul(32, 128, 'auto')).toBe('native');
    expect(chooseRecurrentMatMul(32, 128, 'tf')).toBe('tf');
  });

  it('a training step in tf mode leaks no tensors', () => {
    setDefaultRecurrentMatMul('tf');
    const store = new ParamStore({ seed: 61 });
    const lstm = createLstm(store, 'rnn', { inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.3, impl: 'fused' });
    const x = tf.tensor3d(randn(62, 3 * 5 * 3), [3, 5, 3]);
    const once = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(lstm.apply(x, trainCtx(2), { lengths: [5, 2, 4] }).last) as tf.Scalar, store.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    once();
    const before = tf.memory().numTensors;
    once();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    store.dispose();
  });
});

describe('wide linear ((W x^T)^T for big weights and small batches, wasm without native kernels)', () => {
  // The path exists for XNNPACK, which repacks a transposed weight on every call; the native GEMM takes x W^T as is.
  let saved: ReturnType<typeof activeNativeKernels>;
  beforeAll(() => {
    saved = activeNativeKernels();
    setNativeMatMul(undefined);
  });
  afterAll(() => setNativeMatMul(saved?.mod, saved?.threads));

  it.skipIf(nativeDisabled)('is never chosen while the native GEMM backs wasm', () => {
    setNativeMatMul(requireNative(), 1);
    try {
      expect(useWideLinear(32, 140481, 64)).toBe(false);
    } finally {
      setNativeMatMul(undefined);
    }
  });

  it('is chosen only for large weights with fewer rows than outputs', () => {
    expect(useWideLinear(32, 140481, 64)).toBe(true);
    expect(useWideLinear(128, 140481, 64)).toBe(false);
    expect(useWideLinear(2, 30, 8)).toBe(false);
  });

  it('forward and both gradients match x W^T in plain JS', () => {
    const M = 3, K = 7, N = 5;
    const xs = randn(71, M * K);
    const ws = randn(72, N * K);
    const dys = randn(73, M * N);
    const x = tf.tensor2d(xs, [M, K]);
    const w = tf.tensor2d(ws, [N, K]);
    const y = wideLinear(x, w);
    expect(maxAbsDiff(y.dataSync(), flat(linearRef(reshape2(xs, M, K), reshape2(ws, N, K))))).toBeLessThan(1e-5);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(wideLinear(a as tf.Tensor2D, b as tf.Tensor2D), tf.tensor2d(dys, [M, N]))));
    const [dx, dw] = g([x, w]);
    // dx = dy W, dW = dy^T x
    const dy = reshape2(dys, M, N);
    const W = reshape2(ws, N, K);
    const X = reshape2(xs, M, K);
    const dxRef = dy.map((row) => W[0]!.map((_, k) => row.reduce((s, v, n) => s + v * W[n]![k]!, 0)));
    const dwRef = W.map((_, n) => X[0]!.map((__, k) => dy.reduce((s, row, m) => s + row[n]! * X[m]![k]!, 0)));
    expect(maxAbsDiff(dx!.dataSync(), flat(dxRef))).toBeLessThan(1e-5);
    expect(maxAbsDiff(dw!.dataSync(), flat(dwRef))).toBeLessThan(1e-5);
  });

  it('a Linear wide enough to take the path gives the same result and gradients as the plain matMul', () => {
    const store = new ParamStore({ seed: 81 });
    const K = 4096, N = 300, M = 4;
    expect(useWideLinear(M, K, N)).toBe(true);
    const lin = createLinear(store, 'fc', K, N);
    const x = tf.tensor2d(randn(82, M * K), [M, K]);
    const f = (plain: boolean) =>
      tf.variableGrads(() => {
        const y = plain ? tf.add(tf.matMul(x, lin.weight, false, true), lin.bias!) : lin.apply(x);
        return tf.sum(tf.square(y)) as tf.Scalar;
      }, store.trainableVariables());
    const a = f(false);
    const b = f(true);
    expect(Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!) / b.value.dataSync()[0]!).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.grads[lin.weight.name]!.dataSync(), b.grads[lin.weight.name]!.dataSync())).toBeLessThan(1e-3);
    expect(maxAbsDiff(linear(x, lin.weight).dataSync(), tf.matMul(x, lin.weight, false, true).dataSync())).toBeLessThan(1e-4);
    store.dispose();
  });
});

describe('dropout masks', () => {
  it('Rng.fillMask draws exactly what the nextFloat loop draws and leaves the generator in the same state', () => {
    for (const p of [0.5, 0.1, 0.3, 0.999]) {
      const a = new Rng(9);
      const b = new Rng(9);
      const m = new Float32Array(10001);
      a.fillMask(m, p, 1 / (1 - p));
      const ref = new Float32Array(10001);
      for (let i = 0; i < ref.length; i++) ref[i] = b.nextFloat() < p ? 0 : 1 / (1 - p);
      expect(maxAbsDiff(m, ref)).toBe(0);
      expect(a.nextU32()).toBe(b.nextU32());
    }
    const mask = dropoutMask([4, 2500], 0.5, trainCtx(3)).dataSync();
    const zeros = mask.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(4600);
    expect(zeros).toBeLessThan(5400);
    expect(mask.every((v) => v === 0 || v === 2)).toBe(true);
  });
});

