// Encoder 'gru': PyTorch nn.GRU names and gate layout (3H rows), final hidden state, against a plain-JS GRU.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { gruRef, maxAbsDiff, randn, reshape2, reshape3, flat } from '../../../runtime/nn/ref.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('gru encoder', () => {
  it('runs the whole padded sequence without projection: h_n of the GRU', () => {
    const n = lowerOne('encoder', { type: 'gru', hidden: 4, layers: 1, dropout: 0, bidirectional: false, packed: false, out: null }, [['audio', seq(5, 3)]]);
    expect(n.node.params.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual(['gru.weight_ih_l0:12x3', 'gru.weight_hh_l0:12x4', 'gru.bias_ih_l0:12', 'gru.bias_hh_l0:12']);
    expect(n.node.output.shape).toEqual(['B', 4]);
    const B = 2, T = 5;
    const xs = randn(7, B * T * 3);
    const y = n.lowered.apply([value(tf.tensor3d(xs, [B, T, 3]))], evalCtx()).tensor;
    const r = gruRef(reshape3(xs, B, T, 3), reshape2(n.values('gru.weight_ih_l0'), 12, 3), reshape2(n.values('gru.weight_hh_l0'), 12, 4), n.values('gru.bias_ih_l0'), n.values('gru.bias_hh_l0'), [T, T]);
    expect(maxAbsDiff(y.dataSync(), flat(r.h))).toBeLessThan(1e-5);
    n.dispose();
  });
});
