import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import { ParamStore, evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { createGru, createLstm, type LstmImpl } from '../../../src/runtime/nn/rnn.js';
import { flat, gruRef, lstmRef, maxAbsDiff, randn, reshape2, reshape3, type Mat } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const w2 = (store: ParamStore, key: string): Mat => {
  const v = store.get(key);
  return reshape2(v.dataSync(), v.shape[0]!, v.shape[1]!);
};
const w1 = (store: ParamStore, key: string): number[] => Array.from(store.get(key).dataSync());

function lstmStackRef(store: ParamStore, path: string, x: Mat[], lengths: number[], layers: number, bidir: boolean) {
  let input = x;
  const hN: Mat[] = [];
  let out: Mat[] = [];
  for (let l = 0; l < layers; l++) {
    const dirs = bidir ? ['', '_reverse'] : [''];
    const outs = dirs.map((sfx, d) => {
      const k = (n: string) => `${path}.${n}_l${l}${sfx}`;
      const r = lstmRef(input, w2(store, k('weight_ih')), w2(store, k('weight_hh')), w1(store, k('bias_ih')), w1(store, k('bias_hh')), lengths, d === 1);
      hN.push(r.h);
      return r.out;
    });
    out = outs[0]!.map((seq, b) => seq.map((row, t) => (outs.length === 2 ? [...row, ...outs[1]![b]![t]!] : row)));
    input = out;
  }
  return { hN, out };
}

describe.each<LstmImpl>(['ops', 'fused'])('lstm (%s)', (impl) => {
  it('registers PyTorch state_dict names and shapes', () => {
    const store = new ParamStore({ seed: 1 });
    createLstm(store, 'enc.rnn', { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, impl });
    const keys = store.entries().map((e) => `${e.key}:${e.shape.join('x')}`);
    expect(keys).toEqual([
      'enc.rnn.weight_ih_l0:16x3', 'enc.rnn.weight_hh_l0:16x4', 'enc.rnn.bias_ih_l0:16', 'enc.rnn.bias_hh_l0:16',
      'enc.rnn.weight_ih_l0_reverse:16x3', 'enc.rnn.weight_hh_l0_reverse:16x4', 'enc.rnn.bias_ih_l0_reverse:16', 'enc.rnn.bias_hh_l0_reverse:16',
      'enc.rnn.weight_ih_l1:16x8', 'enc.rnn.weight_hh_l1:16x4', 'enc.rnn.bias_ih_l1:16', 'enc.rnn.bias_hh_l1:16',
      'enc.rnn.weight_ih_l1_reverse:16x8', 'enc.rnn.weight_hh_l1_reverse:16x4', 'enc.rnn.bias_ih_l1_reverse:16', 'enc.rnn.bias_hh_l1_reverse:16',
    ]);
    store.dispose();
  });

  it.each([
    ['unidirectional 1 layer, unpacked', 1, false, undefined],
    ['unidirectional 2 layers, packed', 2, false, [5, 2, 3]],
    ['bidirectional 2 layers, packed', 2, true, [1, 5, 4]],
  ] as const)('matches plain JS: %s', (_n, layers, bidir, lengths) => {
    const store = new ParamStore({ seed: 11 });
    const B = 3, T = 5, D = 3, H = 4;
    const lstm = createLstm(store, 'rnn', { inputSize: D, hiddenSize: H, numLayers: layers, bidirectional: bidir, impl });
    const xs = randn(2, B * T * D);
    const lens = lengths ? [...lengths] : [T, T, T];
    const r = lstm.apply(tf.tensor3d(xs, [B, T, D]), evalCtx(), { ...(lengths ? { lengths } : {}), returnOutputs: true });
    const ref = lstmStackRef(store, 'rnn', reshape3(xs, B, T, D), lens, layers, bidir);
    expect(r.hN).toHaveLength(layers * (bidir ? 2 : 1));
    r.hN.forEach((h, i) => expect(maxAbsDiff(h.dataSync(), flat(ref.hN[i]))).toBeLessThan(1e-5));
    expect(r.last).toBe(r.hN[r.hN.length - 1]);
    expect(r.outputs!.shape).toEqual([B, T, H * (bidir ? 2 : 1)]);
    expect(maxAbsDiff(r.outputs!.dataSync(), flat(ref.out))).toBeLessThan(1e-5);
    store.dispose();
  });

  it('packed: a length-3 sequence padded to 6 gives the unpadded length-3 result', () => {
    const store = new ParamStore({ seed: 5 });
    const lstm = createLstm(store, 'rnn', { inputSize: 2, hiddenSize: 3, bidirectional: true, impl });
    const seq = randn(9, 3 * 2);
    const pad = [...seq, ...randn(10, 3 * 2)]; // garbage, not zeros, in the padding
    const a = lstm.apply(tf.tensor3d(seq, [1, 3, 2]), evalCtx());
    const b = lstm.apply(tf.tensor3d(pad, [1, 6, 2]), evalCtx(), { lengths: [3] });
    a.hN.forEach((h, i) => expect(maxAbsDiff(h.dataSync(), b.hN[i]!.dataSync())).toBeLessThan(1e-6));
    const unpacked = lstm.apply(tf.tensor3d(pad, [1, 6, 2]), evalCtx());
    expect(maxAbsDiff(unpacked.hN[0]!.dataSync(), a.hN[0]!.dataSync())).toBeGreaterThan(1e-4);
    store.dispose();
  });

  it('gradients reach every weight (packed, 2 layers with inter-layer dropout)', () => {
    const store = new ParamStore({ seed: 6 });
    const lstm = createLstm(store, 'rnn', { inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.2, impl });
    const x = tf.tensor3d(randn(4, 2 * 6 * 3), [2, 6, 3]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(lstm.apply(x, trainCtx(1), { lengths: [6, 2] }).last)) as tf.Scalar, store.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const v of store.trainableVariables()) {
      const g = grads[v.name]!.dataSync();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(g, new Float32Array(g.length))).toBeGreaterThan(0);
    }
    store.dispose();
  });
});

describe('fused lstm vs op-by-op', () => {
  it('forward and gradients agree within 1e-4 (packed, bidirectional)', () => {
    const run = (impl: LstmImpl) => {
      const store = new ParamStore({ seed: 21 });
      const lstm = createLstm(store, 'rnn', { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, impl });
      const x = tf.tensor3d(randn(7, 3 * 7 * 3), [3, 7, 3]);
      const target = tf.tensor3d(randn(8, 3 * 7 * 10), [3, 7, 10]);
      const { value, grads } = tf.variableGrads(() => {
        const r = lstm.apply(x, evalCtx(), { lengths: [7, 3, 5], returnOutputs: true });
        return tf.add(tf.sum(tf.mul(r.outputs!, target)), tf.sum(tf.square(tf.concat(r.hN, 1)))) as tf.Scalar;
      }, store.trainableVariables());
      const out = { loss: value.dataSync()[0]!, grads: store.entries().map((e) => Array.from(grads[e.variable.name]!.dataSync())) };
      store.dispose();
      return out;
    };
    const a = run('ops');
    const b = run('fused');
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-4);
    a.grads.forEach((g, i) => expect(maxAbsDiff(g, b.grads[i]!)).toBeLessThan(1e-4));
  });
});

describe('gru', () => {
  it('matches plain JS (gate order r,z,n; r applied to W_hn h + b_hn), packed and bidirectional', () => {
    const store = new ParamStore({ seed: 12 });
    const B = 2, T = 4, D = 3, H = 3;
    const gru = createGru(store, 'g', { inputSize: D, hiddenSize: H, bidirectional: true });
    expect(store.get('g.weight_ih_l0').shape).toEqual([9, 3]);
    const xs = randn(3, B * T * D);
    const lens = [4, 2];
    const r = gru.apply(tf.tensor3d(xs, [B, T, D]), evalCtx(), { lengths: lens, returnOutputs: true });
    const x = reshape3(xs, B, T, D);
    const k = (n: string, s: string) => `g.${n}_l0${s}`;
    const f = gruRef(x, w2(store, k('weight_ih', '')), w2(store, k('weight_hh', '')), w1(store, k('bias_ih', '')), w1(store, k('bias_hh', '')), lens);
    const bw = gruRef(x, w2(store, k('weight_ih', '_reverse')), w2(store, k('weight_hh', '_reverse')), w1(store, k('bias_ih', '_reverse')), w1(store, k('bias_hh', '_reverse')), lens, true);
    expect(maxAbsDiff(r.hN[0]!.dataSync(), flat(f.h))).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.hN[1]!.dataSync(), flat(bw.h))).toBeLessThan(1e-5);
    const outRef = f.out.map((seq, b) => seq.map((row, t) => [...row, ...bw.out[b]![t]!]));
    expect(maxAbsDiff(r.outputs!.dataSync(), flat(outRef))).toBeLessThan(1e-5);
    expect(r.cN).toBeUndefined();
    store.dispose();
  });
});

describe('memory', () => {
  it.each<LstmImpl>(['ops', 'fused'])('a training step (%s) leaks no tensors', (impl) => {
    const store = new ParamStore({ seed: 31 });
    const lstm = createLstm(store, 'rnn', { inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, dropout: 0.5, impl });
    const x = tf.tensor3d(randn(1, 2 * 4 * 2), [2, 4, 2]);
    const stepOnce = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(lstm.apply(x, trainCtx(1), { lengths: [4, 2], returnOutputs: true }).outputs!) as tf.Scalar, store.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    stepOnce();
    const before = tf.memory().numTensors;
    stepOnce();
    stepOnce();
    expect(tf.memory().numTensors).toBe(before);
    const y = tf.tidy(() => lstm.apply(x, trainCtx(2)).last);
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    x.dispose();
    store.dispose();
  });
});
