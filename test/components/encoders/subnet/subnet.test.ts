// Encoder 'subnet' (TFN/LMF SubNet): its tfjs block against plain JS.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { ParamStore, evalCtx } from '../../../../src/runtime/nn/params.js';
import { createSubNet } from '../../../../src/components/encoders/subnet/nn.js';
import { flat, maxAbsDiff, randn, relu, reshape2, type Mat, storeLinear } from '../../../runtime/nn/ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});


describe('SubNet', () => {
  it('BatchNorm1d -> Dropout -> (Linear -> ReLU) x3 matches plain JS in eval mode', () => {
    const store = new ParamStore({ seed: 1 });
    const net = createSubNet(store, 'audio_subnet', 4, 6, 0.3);
    expect(store.entries().map((e) => e.key)).toEqual([
      'audio_subnet.norm.weight', 'audio_subnet.norm.bias', 'audio_subnet.norm.running_mean', 'audio_subnet.norm.running_var',
      'audio_subnet.norm.num_batches_tracked', 'audio_subnet.linear_1.weight', 'audio_subnet.linear_1.bias',
      'audio_subnet.linear_2.weight', 'audio_subnet.linear_2.bias', 'audio_subnet.linear_3.weight', 'audio_subnet.linear_3.bias',
    ]);
    net.norm.runningMean.assign(tf.tensor1d([0.5, -0.5, 1, 0]));
    net.norm.runningVar.assign(tf.tensor1d([2, 0.5, 1, 3]));
    const xs = randn(1, 3 * 4);
    const y = net.apply(tf.tensor2d(xs, [3, 4]), evalCtx());
    const rm = [0.5, -0.5, 1, 0], rv = [2, 0.5, 1, 3];
    let h: Mat = reshape2(xs, 3, 4).map((r) => r.map((v, c) => (v - rm[c]!) / Math.sqrt(rv[c]! + 1e-5)));
    for (const l of ['linear_1', 'linear_2', 'linear_3']) h = relu(storeLinear(store, `audio_subnet.${l}`, h));
    expect(maxAbsDiff(y.dataSync(), flat(h))).toBeLessThan(1e-5);
    store.dispose();
  });
});
