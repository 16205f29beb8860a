import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import { ParamStore, evalCtx } from '../../../src/runtime/nn/params.js';
import { createAuViSubNet, createMlpHead } from '../../../src/runtime/nn/blocks.js';
import { createLowRankFusion, createOutputRange, earlyFusion, tensorFusion, tensorFusionSize, timeMean } from '../../../src/runtime/nn/fusion.js';
import { flat, linearRef, lstmRef, maxAbsDiff, randn, relu, reshape2, reshape3, sig, type Mat } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const mat = (store: ParamStore, key: string): Mat => {
  const v = store.get(key);
  return reshape2(v.dataSync(), v.shape[0]!, v.shape[1]!);
};
const vec = (store: ParamStore, key: string): number[] => Array.from(store.get(key).dataSync());
const lin = (store: ParamStore, path: string, x: Mat) => linearRef(x, mat(store, `${path}.weight`), vec(store, `${path}.bias`));

describe('AuViSubNet', () => {
  it('AuViSubNet uses the packed h_n then Dropout -> Linear', () => {
    const store = new ParamStore({ seed: 3 });
    const net = createAuViSubNet(store, 'audio_model', 3, 4, 2, { dropout: 0 });
    const B = 3, T = 6;
    const xs = randn(3, B * T * 3);
    const lens = [6, 1, 4];
    const y = net.apply(tf.tensor3d(xs, [B, T, 3]), evalCtx(), lens);
    const r = lstmRef(reshape3(xs, B, T, 3), mat(store, 'audio_model.rnn.weight_ih_l0'), mat(store, 'audio_model.rnn.weight_hh_l0'),
      vec(store, 'audio_model.rnn.bias_ih_l0'), vec(store, 'audio_model.rnn.bias_hh_l0'), lens);
    expect(maxAbsDiff(y.dataSync(), flat(lin(store, 'audio_model.linear_1', r.h)))).toBeLessThan(1e-5);
    store.dispose();
  });
});

describe('MLP head', () => {
  it('returns the output and the first hidden activation (Feature_m)', () => {
    const store = new ParamStore({ seed: 4 });
    const head = createMlpHead(store, 'post_fusion', 5, 4, 0.5, { names: ['post_fusion_layer_1', 'post_fusion_layer_2', 'post_fusion_layer_3'] });
    expect(store.entries().map((e) => e.key)[0]).toBe('post_fusion.post_fusion_layer_1.weight');
    const xs = randn(4, 2 * 5);
    const { output, feature } = head.apply(tf.tensor2d(xs, [2, 5]), evalCtx());
    const f = relu(lin(store, 'post_fusion.post_fusion_layer_1', reshape2(xs, 2, 5)));
    const o = lin(store, 'post_fusion.post_fusion_layer_3', relu(lin(store, 'post_fusion.post_fusion_layer_2', f)));
    expect(output.shape).toEqual([2, 1]);
    expect(maxAbsDiff(feature.dataSync(), flat(f))).toBeLessThan(1e-5);
    expect(maxAbsDiff(output.dataSync(), flat(o))).toBeLessThan(1e-5);
    store.dispose();
  });
});

describe('fusion ops', () => {
  it('tensor fusion flattens audio slowest, then video, then text, with a prepended 1', () => {
    const a = [[0.5, -1]], v = [[2]], t = [[3, 4, 5]];
    const z = tensorFusion([tf.tensor2d(a), tf.tensor2d(v), tf.tensor2d(t)]);
    expect(z.shape).toEqual([1, tensorFusionSize([2, 1, 3])]);
    const ah = [1, ...a[0]!], vh = [1, ...v[0]!], th = [1, ...t[0]!];
    const zd = z.dataSync();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 4; k++) {
      expect(zd[(i * 2 + j) * 4 + k]).toBeCloseTo(ah[i]! * vh[j]! * th[k]!, 6);
    }
    const store = new ParamStore({ seed: 5 });
    const range = createOutputRange(store, 'tfn');
    expect(store.trainableVariables()).toHaveLength(0);
    expect(store.select({ buffers: true }).map((e) => e.name)).toEqual(['output_range', 'output_shift']);
    expect(range.apply(tf.tensor1d([0, 2])).dataSync()[1]).toBeCloseTo(sig(2) * 6 - 3, 5);
    store.dispose();
  });

  it('low-rank fusion matches the plain-JS LMF formula and trains without the broadcast-matMul bug', () => {
    const store = new ParamStore({ seed: 6 });
    const dims = [2, 3, 2], rank = 3;
    const lmf = createLowRankFusion(store, 'lmf', dims, rank);
    expect(store.entries().map((e) => `${e.name}:${e.shape.join('x')}`)).toEqual([
      'audio_factor:3x3x1', 'video_factor:3x4x1', 'text_factor:3x3x1', 'fusion_weights:1x3', 'fusion_bias:1x1',
    ]);
    const B = 4;
    const xs = dims.map((d, i) => randn(30 + i, B * d));
    const inputs = xs.map((x, i) => tf.tensor2d(x, [B, dims[i]!]));
    const { output, z } = lmf.apply(inputs);
    const factors = lmf.factors.map((f) => f.dataSync());
    const w = lmf.fusionWeights.dataSync();
    const bias = lmf.fusionBias.dataSync()[0]!;
    for (let b = 0; b < B; b++) {
      let y = bias;
      for (let r = 0; r < rank; r++) {
        let prod = 1;
        dims.forEach((d, m) => {
          const hat = [1, ...xs[m]!.slice(b * d, (b + 1) * d)];
          prod *= hat.reduce((s, v, i) => s + v * factors[m]![r * (d + 1) + i]!, 0);
        });
        expect(Math.abs(z.dataSync()[b * rank + r]! - prod)).toBeLessThan(1e-5);
        y += w[r]! * prod;
      }
      expect(Math.abs(output.dataSync()[b]! - y)).toBeLessThan(1e-5);
    }
    const { grads } = tf.variableGrads(() => tf.sum(lmf.apply(inputs).output) as tf.Scalar, store.trainableVariables());
    for (const f of lmf.factors) expect(grads[f.name]!.dataSync().every(Number.isFinite)).toBe(true);
    store.dispose();
  });

  it('early fusion concatenates per time step; time mean averages the padded axis', () => {
    const a = tf.tensor3d([1, 2, 3, 4], [1, 2, 2]);
    const b = tf.tensor3d([5, 6], [1, 2, 1]);
    expect(Array.from(earlyFusion([a, b]).dataSync())).toEqual([1, 2, 5, 3, 4, 6]);
    expect(() => earlyFusion([a, tf.zeros([1, 3, 1]) as tf.Tensor3D])).toThrow(/sequence lengths differ/);
    expect(maxAbsDiff(timeMean(tf.tensor3d([1, 2, 3, 4, 0, 0], [1, 3, 2])).dataSync(), [4 / 3, 2])).toBeLessThan(1e-6);
  });
});
