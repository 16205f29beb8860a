import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import { ParamStore, evalCtx } from '../../../src/runtime/nn/params.js';
import { createAuViSubNet, createMlpHead } from '../../../src/runtime/nn/blocks.js';
import { flat, lstmRef, maxAbsDiff, randn, relu, reshape2, reshape3, storeLinear, storeMat, storeVec } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});


describe('AuViSubNet', () => {
  it('AuViSubNet uses the packed h_n then Dropout -> Linear', () => {
    const store = new ParamStore({ seed: 3 });
    const net = createAuViSubNet(store, 'audio_model', 3, 4, 2, { dropout: 0 });
    const B = 3, T = 6;
    const xs = randn(3, B * T * 3);
    const lens = [6, 1, 4];
    const y = net.apply(tf.tensor3d(xs, [B, T, 3]), evalCtx(), lens);
    const r = lstmRef(reshape3(xs, B, T, 3), storeMat(store, 'audio_model.rnn.weight_ih_l0'), storeMat(store, 'audio_model.rnn.weight_hh_l0'),
      storeVec(store, 'audio_model.rnn.bias_ih_l0'), storeVec(store, 'audio_model.rnn.bias_hh_l0'), lens);
    expect(maxAbsDiff(y.dataSync(), flat(storeLinear(store, 'audio_model.linear_1', r.h)))).toBeLessThan(1e-5);
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
    const f = relu(storeLinear(store, 'post_fusion.post_fusion_layer_1', reshape2(xs, 2, 5)));
    const o = storeLinear(store, 'post_fusion.post_fusion_layer_3', relu(storeLinear(store, 'post_fusion.post_fusion_layer_2', f)));
    expect(output.shape).toEqual([2, 1]);
    expect(maxAbsDiff(feature.dataSync(), flat(f))).toBeLessThan(1e-5);
    expect(maxAbsDiff(output.dataSync(), flat(o))).toBeLessThan(1e-5);
    store.dispose();
  });
});
