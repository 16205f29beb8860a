// Head 'lstm_attention' (MCTN's Regression): with a constant attention score every step weighs the same, so the head
// is linear2 of the mean LSTM output over time; along the batch axis (MMSA) the LSTM runs over the samples instead.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx, ParamStore } from '../../../../src/runtime/nn/params.js';
import { createLstm } from '../../../../src/runtime/nn/rnn.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('lstm_attention head', () => {
  it('pools the LSTM outputs over time by the softmax of tanh(linear); MMSA\'s option runs the LSTM over the batch', () => {
    for (const batchAsTime of [false, true]) {
      const o = lowerOne('head', { type: 'lstm_attention', input: 'fusion', batch_as_time: batchAsTime }, [['fusion', seq(5, 3, { aligned: true })]], 2);
      expect(o.node.params.map((p) => p.name)).toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'linear.weight', 'linear.bias', 'linear2.weight', 'linear2.bias']);
      // A zero score weight: every step gets attention 1/T.
      o.store.get('heads.n.linear.weight').assign(tf.zeros([1, 3]));
      const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 7) as tf.Tensor3D;
      const y = o.lowered.apply([value(x)], evalCtx()).tensor;
      expect(y.shape).toEqual([4, 1]);
      // The same LSTM weights run by the plain LSTM block, on the sequence or on its transpose.
      const other = new ParamStore({ seed: 1 });
      const ref = createLstm(other, 'r', { inputSize: 3, hiddenSize: 3 });
      for (const e of other.entries()) e.variable.assign(o.store.get(`heads.n.rnn.${e.name}`));
      const xs = batchAsTime ? (tf.transpose(x, [1, 0, 2]) as tf.Tensor3D) : x;
      let acts = ref.apply(xs, evalCtx(), { returnOutputs: true }).outputs!;
      if (batchAsTime) acts = tf.transpose(acts, [1, 0, 2]);
      const w = o.values('linear2.weight'), b = o.values('linear2.bias')[0]!;
      const mean = tf.mean(acts, 1).arraySync() as number[][];
      const got = y.dataSync();
      mean.forEach((m, i) => expect(got[i]).toBeCloseTo(m.reduce((s, v, k) => s + v * w[k]!, b), 5));
      other.dispose();
      o.dispose();
    }
  });
});
