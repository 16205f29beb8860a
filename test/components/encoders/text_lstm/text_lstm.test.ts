// Encoder 'text_lstm' (TFN/LMF TextSubNet): its tfjs block against a plain-JS LSTM.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { ParamStore, trainCtx } from '../../../../src/runtime/nn/params.js';
import { createTextSubNet } from '../../../../src/components/encoders/text_lstm/nn.js';
import { flat, lstmRef, maxAbsDiff, randn, reshape3, storeLinear, storeMat, storeVec } from '../../../runtime/nn/ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});


describe('TextSubNet', () => {
  it('TextSubNet runs the LSTM over the whole padded sequence and ignores its dropout (forced 0)', () => {
    const store = new ParamStore({ seed: 2 });
    const net = createTextSubNet(store, 'text_subnet', 3, 4, 2, 0.9);
    const B = 2, T = 5;
    const xs = randn(2, B * T * 3);
    const y = net.apply(tf.tensor3d(xs, [B, T, 3]), trainCtx(1));
    const r = lstmRef(reshape3(xs, B, T, 3), storeMat(store, 'text_subnet.rnn.weight_ih_l0'), storeMat(store, 'text_subnet.rnn.weight_hh_l0'),
      storeVec(store, 'text_subnet.rnn.bias_ih_l0'), storeVec(store, 'text_subnet.rnn.bias_hh_l0'), [T, T]);
    expect(maxAbsDiff(y.dataSync(), flat(storeLinear(store, 'text_subnet.linear_1', r.h)))).toBeLessThan(1e-5);
    // with the fix enabled, dropout 0.9 in training changes the output
    const store2 = new ParamStore({ seed: 2 });
    const fixed = createTextSubNet(store2, 'text_subnet', 3, 4, 2, 0.9, { forcedZeroDropout: false });
    expect(maxAbsDiff(fixed.apply(tf.tensor3d(xs, [B, T, 3]), trainCtx(1)).dataSync(), y.dataSync())).toBeGreaterThan(1e-4);
    store.dispose();
    store2.dispose();
  });
});
