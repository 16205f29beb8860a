// The fused BERT encoder layer: its hand-written backward matches tfjs autodiff of the same layer written op by op
// (dropout on, padded keys), 'keep' and 'recompute' give identical bits, and a step frees the layer's intermediates.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeNativeKernels, setNativeMatMul, setupBackend } from '../../../src/runtime/backend.js';
import { nativeDisabled } from '../../helpers/native.js';
import { bertLayer, geluErf, type ActivationMode, type BertLayerShape, type BertLayerWeights } from '../../../src/runtime/nn/bert/index.js';
import { Rng, trainCtx, type ForwardCtx } from '../../../src/runtime/nn/index.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const B = 3;
const L = 7;
const H = 32;
const I = 64;
const shape: BertLayerShape = { B, L, heads: 4, eps: 1e-12, act: 'gelu', attentionDropout: 0.1, hiddenDropout: 0.1 };
const NAMES = ['qW', 'qB', 'kW', 'kB', 'vW', 'vB', 'oW', 'oB', 'ln1W', 'ln1B', 'iW', 'iB', 'o2W', 'o2B', 'ln2W', 'ln2B'] as const;

function makeWeights(seed: number): Record<(typeof NAMES)[number], tf.Variable> {
  const r = new Rng(seed);
  const t = (shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(Float32Array.from({ length: n }, () => offset + scale * r.normal()), shape));
  };
  return {
    qW: t([H, H], 0.2), qB: t([H], 0.1), kW: t([H, H], 0.2), kB: t([H], 0.1), vW: t([H, H], 0.2), vB: t([H], 0.1),
    oW: t([H, H], 0.2), oB: t([H], 0.1), ln1W: t([H], 0.1, 1), ln1B: t([H], 0.1),
    iW: t([I, H], 0.2), iB: t([I], 0.1), o2W: t([H, I], 0.15), o2B: t([H], 0.1), ln2W: t([H], 0.1, 1), ln2B: t([H], 0.1),
  };
}

/** The same layer op by op (as the model computed it before the fused layer), differentiated by tfjs. */
function layerByOps(x: tf.Tensor2D, addMask: tf.Tensor, w: BertLayerWeights, ctx: ForwardCtx): tf.Tensor {
  const nh = shape.heads;
  const dh = H / nh;
  const mask = (sh: number[], p: number) => {
    const m = new Float32Array(sh.reduce((a, b) => a * b, 1));
    ctx.rng.fillMask(m, p, 1 / (1 - p));
    return tf.tensor(m, sh);
  };
  const lin = (t: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(t as tf.Tensor2D, W as tf.Tensor2D, false, true), b);
  const ln = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, shape.eps))), g), b);
  };
  const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, L, nh, dh]), [0, 2, 1, 3]), [B * nh, L, dh]) as tf.Tensor3D;
  const q = heads(lin(x, w.qW, w.qB));
  const k = heads(lin(x, w.kW, w.kB));
  const v = heads(lin(x, w.vW, w.vB));
  const scores = tf.add(tf.reshape(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), [B, nh, L, L]), addMask);
  const probs = tf.mul(tf.softmax(scores, -1), mask([B, nh, L, L], shape.attentionDropout));
  const ctxv = tf.matMul(tf.reshape(probs, [B * nh, L, L]) as tf.Tensor3D, v);
  const merged = tf.reshape(tf.transpose(tf.reshape(ctxv, [B, nh, L, dh]), [0, 2, 1, 3]), [B * L, H]);
  const a = tf.mul(lin(merged, w.oW, w.oB), mask([B * L, H], shape.hiddenDropout));
  const h1 = ln(tf.add(a, x), w.ln1W, w.ln1B);
  const o = tf.mul(lin(geluErf(lin(h1, w.iW, w.iB)), w.o2W, w.o2B), mask([B * L, H], shape.hiddenDropout));
  return ln(tf.add(o, h1), w.ln2W, w.ln2B);
}

function inputs() {
  const r = new Rng(3);
  const x = tf.tensor2d(Float32Array.from({ length: B * L * H }, () => r.normal()), [B * L, H]);
  const lens = [7, 4, 2];
  const keyMask = Float32Array.from({ length: B * L }, (_, i) => (i % L < lens[Math.floor(i / L)]! ? 0 : -10000));
  const addMask = tf.tensor(keyMask, [B, 1, 1, L]);
  const target = tf.tensor2d(Float32Array.from({ length: B * L * H }, () => r.normal()), [B * L, H]);
  return { x, addMask, target };
}

function gradsOf(f: (x: tf.Tensor2D, w: BertLayerWeights) => tf.Tensor, w: Record<string, tf.Variable>, x: tf.Tensor2D, target: tf.Tensor) {
  const xv = tf.variable(x, true, `x_${Math.random()}`);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(xv as unknown as tf.Tensor2D, w as unknown as BertLayerWeights), target)) as tf.Scalar, [xv, ...Object.values(w)]);
  const out: Record<string, Float32Array> = { loss: Float32Array.from(value.dataSync()) };
  out['x'] = Float32Array.from(grads[xv.name]!.dataSync());
  for (const n of NAMES) out[n] = Float32Array.from(grads[w[n]!.name]!.dataSync());
  tf.dispose([value, ...Object.values(grads)]);
  xv.dispose();
  return out;
}

/** Runs f with mmsa's native kernels off (the layer's tensor-op steps), restoring them afterwards. */
function withoutNative<T>(f: () => T): T {
  const saved = activeNativeKernels();
  setNativeMatMul(undefined);
  try {
    return f();
  } finally {
    setNativeMatMul(saved?.mod, saved?.threads);
  }
}

const paths: [string, <T>(f: () => T) => T][] = [['tensor-op steps', withoutNative]];
if (!nativeDisabled) paths.unshift(['native kernels', (f) => f()]);

describe.each(paths)('fused BERT layer on %s', (_name, on) => {
  it('matches tfjs autodiff of the op-by-op layer: value and every gradient (dropout on, padded keys)', () => on(() => {
    const w = makeWeights(5);
    const { x, addMask, target } = inputs();
    const fused = gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(9), 'keep'), w, x, target);
    const ref = withoutNative(() => gradsOf((xx, ww) => layerByOps(xx, addMask, ww, trainCtx(9)), w, x, target));
    expect(Math.abs(fused['loss']![0]! - ref['loss']![0]!)).toBeLessThan(1e-3 * Math.abs(ref['loss']![0]!) + 1e-4);
    for (const n of ['x', ...NAMES]) {
      const a = fused[n]!;
      const b = ref[n]!;
      let scale = 0;
      let err = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        err = Math.max(err, Math.abs(a[i]! - b[i]!));
      }
      if (n === 'kB') {
        // softmax over keys ignores what every key adds alike: the key bias gets no gradient
        expect(scale, n).toBeLessThan(1e-5);
        continue;
      }
      expect(scale, n).toBeGreaterThan(1e-3);
      expect(err / scale, n).toBeLessThan(2e-5);
    }
    tf.dispose([x, addMask, target, ...Object.values(w)]);
  }));

  it("'keep' and 'recompute' give the same bits, and recompute keeps only the layer input through the forward", () => on(() => {
    const w = makeWeights(6);
    const { x, addMask, target } = inputs();
    const run = (mode: ActivationMode) => gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(4), mode), w, x, target);
    const a = run('keep');
    const b = run('recompute');
    for (const n of ['loss', 'x', ...NAMES]) expect(Buffer.from(a[n]!.buffer).equals(Buffer.from(b[n]!.buffer)), n).toBe(true);
    // Tensors alive at the end of the forward: the layer's saved set in 'keep', the input (and mask) in 'recompute'.
    const live = (mode: ActivationMode) => {
      let n = 0;
      const xv = tf.variable(x, true);
      const { value, grads } = tf.variableGrads(() => {
        const before = tf.memory().numTensors;
        const y = bertLayer(xv as unknown as tf.Tensor2D, addMask, w as unknown as BertLayerWeights, shape, trainCtx(4), mode);
        n = tf.memory().numTensors - before;
        return tf.sum(tf.mul(y, target)) as tf.Scalar;
      }, [xv]);
      tf.dispose([value, ...Object.values(grads), xv]);
      return n;
    };
    expect(live('recompute')).toBe(3); // saved x, saved mask, the output
    expect(live('keep')).toBe(15); // + 12 activations
    tf.dispose([x, addMask, target, ...Object.values(w)]);
  }));

  it('leaves no tensors behind after a gradient step, in train and eval mode', () => on(() => {
    const w = makeWeights(7);
    const { x, addMask, target } = inputs();
    const before = tf.memory().numTensors;
    gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(1), 'recompute'), w, x, target);
    gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(1), 'keep'), w, x, target);
    tf.tidy(() => bertLayer(x, addMask, w as unknown as BertLayerWeights, { ...shape }, { training: false, rng: new Rng(0) }).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, addMask, target, ...Object.values(w)]);
  }));

  it.skipIf(_name !== 'native kernels')('gives the same bits for one and two threads of the native kernels', () => {
    const saved = activeNativeKernels()!;
    // Big enough that the kernels split rows over threads (N * C >= 65536 elements).
    const big: BertLayerShape = { ...shape, B: 16, L: 64 };
    const r = new Rng(8);
    const n = big.B * big.L;
    const x = tf.tensor2d(Float32Array.from({ length: n * H }, () => r.normal()), [n, H]);
    const addMask = tf.zeros([big.B, 1, 1, big.L]);
    const target = tf.tensor2d(Float32Array.from({ length: n * H }, () => r.normal()), [n, H]);
    const w = makeWeights(9);
    const run = (threads: number) => {
      setNativeMatMul(saved.mod, threads);
      try {
        return gradsOf((xx, ww) => bertLayer(xx, addMask, ww, big, trainCtx(2), 'keep'), w, x, target);
      } finally {
        setNativeMatMul(saved.mod, saved.threads);
      }
    };
    const one = run(1);
    const two = run(2);
    for (const k of ['loss', 'x', ...NAMES]) expect(Buffer.from(one[k]!.buffer).equals(Buffer.from(two[k]!.buffer)), k).toBe(true);
    tf.dispose([x, addMask, target, ...Object.values(w)]);
  });
});

describe.skipIf(nativeDisabled)('native BERT kernels', () => {
  it('agree with the tensor-op steps to float32 rounding (forward value and gradients)', () => {
    const w = makeWeights(10);
    const { x, addMask, target } = inputs();
    const native = gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(6), 'keep'), w, x, target);
    const ops = withoutNative(() => gradsOf((xx, ww) => bertLayer(xx, addMask, ww, shape, trainCtx(6), 'keep'), w, x, target));
    for (const n of ['loss', 'x', ...NAMES.filter((k) => k !== 'kB')]) {
      const a = native[n]!;
      const b = ops[n]!;
      let scale = 0;
      let err = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        err = Math.max(err, Math.abs(a[i]! - b[i]!));
      }
      expect(err / scale, n).toBeLessThan(1e-5);
    }
    tf.dispose([x, addMask, target, ...Object.values(w)]);
  });
});
