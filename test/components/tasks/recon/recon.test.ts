// Task 'recon' (MISA's reconstruction loss with its MSE module): sum of squared differences over the element count
// per pair, the mean over the pairs, gradients reaching both sides; node outputs read by reference.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { reconLoss } from '../../../../src/components/tasks/recon/lower.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { randn } from '../../../runtime/nn/ref.js';
import { batchWithLabels, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('recon task', () => {
  it('averages the mean squared difference of each pair; both sides get the gradient', () => {
    const pairs = [['encoders.sp:recon_text', 'encoders.sp:orig_text'], ['encoders.sp:recon_audio', 'encoders.sp:orig_audio']];
    const t = taskOf({ type: 'recon', pairs, weight: 0.8, valid_loss: false });
    t.inputs = pairs.flat();
    const task = lowerTaskOf(t);
    const [r1, o1, r2, o2] = [1, 2, 3, 4].map((s) => tf.variable(tf.tensor2d(randn(s, 3 * 2), [3, 2])));
    const nodes = Object.fromEntries(pairs.flat().map((k, i) => [k, [r1, o1, r2, o2][i]!]));
    const mse = (a: tf.Tensor, b: tf.Tensor) => Array.from(a.dataSync()).reduce((s, v, i) => s + (v - b.dataSync()[i]!) ** 2, 0) / a.size;
    const f = () => task.trainLoss({ heads: {}, features: {}, nodes }, batchWithLabels([0]), 1);
    expect(f().dataSync()[0]).toBeCloseTo((0.8 * (mse(r1!, o1!) + mse(r2!, o2!))) / 2, 6);
    const { grads } = tf.variableGrads(f, [r1!, o1!]);
    // d/dr of 0.8 * mean_pairs(sum((o - r)^2) / n) = 0.8 / 2 * 2 (r - o) / n, and the negative for o
    const want = Array.from(r1!.dataSync(), (v, i) => (0.8 / 2) * (2 * (v - o1!.dataSync()[i]!)) / 6);
    Array.from(grads[r1!.name]!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    Array.from(grads[o1!.name]!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(-want[i]!, 6));
    expect(reconLoss(r2!, o2!).dataSync()[0]).toBeCloseTo(mse(r2!, o2!), 6);
  });
});
