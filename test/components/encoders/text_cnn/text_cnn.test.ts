// Encoder 'text_cnn': Kim's CNN against plain JS (valid convolutions, ReLU, max over positions inside the true
// length, concatenated), padding that never leaks, gradients checked numerically.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { linearRef, maxAbsDiff, randn, reshape2, reshape3 } from '../../../runtime/nn/ref.js';
import { conv1dRef, convWeight, maxRows, reluM } from '../../conv-ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('text_cnn encoder', () => {
  const params = { type: 'text_cnn', kernels: [2, 3], channels: 3, dropout: 0, out: 2 };

  it('is Kim CNN: per width conv, relu, max over the valid positions, concat, linear', () => {
    const n = lowerOne('encoder', params, [['text', seq(6, 4, { lengths: 'text_lengths' })]]);
    expect(n.node.params.map((p) => p.name)).toEqual(['convs.0.weight', 'convs.0.bias', 'convs.1.weight', 'convs.1.bias', 'linear.weight', 'linear.bias']);
    expect(n.node.params[2]!.shape).toEqual([3, 4, 3]);
    const x = reshape3(randn(1, 2 * 6 * 4), 2, 6, 4);
    const lengths = [6, 4];
    const dirty = x.map((r, b) => r.map((f, t) => (t < lengths[b]! ? f : f.map(() => 50))));
    const y = n.lowered.apply([value(tf.tensor3d(dirty), lengths)], evalCtx()).tensor;
    const want = x.map((row, b) => {
      const valid = row.slice(0, lengths[b]);
      const feats = [0, 1].flatMap((i) => {
        const k = params.kernels[i]!;
        const c = conv1dRef(valid, convWeight(n.values(`convs.${i}.weight`), 3, 4, k), n.values(`convs.${i}.bias`), { padding: 'valid' });
        return maxRows(reluM(c));
      });
      return linearRef([feats], reshape2(n.values('linear.weight'), 2, 6), n.values('linear.bias'))[0]!;
    });
    expect(maxAbsDiff(y.dataSync(), want.flat())).toBeLessThan(1e-5);
    n.dispose();
  });

  it('takes a text shorter than its widest kernel (one window at position 0)', () => {
    const n = lowerOne('encoder', { ...params, kernels: [5], out: null }, [['text', seq(3, 2)]]);
    const x = reshape3(randn(2, 3 * 2), 1, 3, 2);
    const y = n.lowered.apply([value(tf.tensor3d(x))], evalCtx()).tensor;
    const padded = [...x[0]!, [0, 0], [0, 0]];
    const want = maxRows(reluM(conv1dRef(padded, convWeight(n.values('convs.0.weight'), 3, 2, 5), n.values('convs.0.bias'), { padding: 'valid' })));
    expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(1e-5);
    n.dispose();
  });

  it('has the gradients of its maths (numerical check on a tiny case)', () => {
    const n = lowerOne('encoder', params, [['text', seq(5, 3, { lengths: 'text_lengths' })]], 4);
    const c = checkParamGradient(n.lowered, n.store, value(tf.tensor3d(reshape3(randn(3, 2 * 5 * 3), 2, 5, 3)), [5, 3]));
    expect(gradError(c)).toBeLessThan(1e-2);
    expect(Math.abs(c.analytic)).toBeGreaterThan(1e-3);
    n.dispose();
  });
});
