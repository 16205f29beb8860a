// Task 'mmilb' (MMSA's MMILB entropy and trains/singleTask/MMIM.py's loss): logdet and H against hand-computed values,
// logdet's gradient (the inverse transpose) and H's against central differences, and the task's -lld - H with the
// memory of the previous batch, counting H from batch index mem_size + 1 and forgetting at each epoch.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { covariance, entropyH, logdet, splitBySign } from '../../../../src/components/tasks/mmilb/nn.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { randn } from '../../../runtime/nn/ref.js';
import { batchWithLabels, expectCentralDifferences, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('mmilb entropy maths', () => {
  it('logdet is log det, NaN for a negative determinant, with gradient inv(S)^T', () => {
    expect(logdet(tf.tensor2d([[2, 1], [1, 2]])).dataSync()[0]).toBeCloseTo(Math.log(3), 6);
    expect(logdet(tf.tensor2d([[0, 2, 0], [1, 0, 0], [0, 0, 4]])).dataSync()[0]).toBeNaN();
    expect(logdet(tf.tensor2d([[1, 2], [2, 4]])).dataSync()[0]).toBe(-Infinity);
    const s = tf.variable(tf.tensor2d([[4, 1], [2, 3]]));
    const { grads } = tf.variableGrads(() => logdet(s), [s]);
    // inv([[4,1],[2,3]]) = [[3,-1],[-2,4]] / 10, transposed.
    expect(Array.from(grads[s.name]!.dataSync())).toEqual([0.3, -0.2, -0.1, 0.4].map((x) => expect.closeTo(x, 6)));
  });

  it('H = 0.25 (logdet cov(pos) + logdet cov(neg)) with the biased covariance', () => {
    const pos = tf.tensor2d([[3, 0], [-3, 0], [0, 1], [0, -1]]);
    const neg = tf.tensor2d([[1, 1], [-1, -1], [1, -1], [-1, 1]]);
    expect(Array.from(covariance(pos).dataSync())).toEqual([4.5, 0, 0, 0.5]);
    // logdet diag(4.5, 0.5) = log 2.25; cov(neg) = I.
    expect(entropyH(pos, neg).dataSync()[0]).toBeCloseTo(0.25 * Math.log(2.25), 6);
    const { pos: p, neg: n } = splitBySign(tf.tensor2d([[1], [2], [3], [4]]), Float32Array.from([0.5, -1, 0, 2]));
    expect(Array.from(p.dataSync())).toEqual([1, 4]);
    expect(Array.from(n.dataSync())).toEqual([2]);
  });

  it('H has the gradient of its formula (central differences)', () => {
    const p = tf.variable(tf.tensor2d(randn(21, 7 * 3), [7, 3]));
    const n = tf.variable(tf.tensor2d(randn(22, 6 * 3), [6, 3]));
    expectCentralDifferences(() => entropyH(p, n), [p, n], 2e-2, [0, 8, 17]);
  });
});

describe('mmilb task', () => {
  const refs = { lld: 'fusion:lld', tv: 'fusion:entropy_tv' };
  const outAt = (seed: number, lld: number) => ({ heads: {}, features: {}, nodes: { [refs.lld]: tf.tensor1d([lld]), [refs.tv]: tf.tensor2d(randn(seed, 6 * 2), [6, 2]) } });
  const labels = [1, -1, 0.5, -2, 3, -0.5];

  it('is -lld without entropy (the MI-bound stage)', () => {
    const task = lowerTaskOf(taskOf({ type: 'mmilb', lld: refs.lld, entropy: [], target: 'M', mem_size: 1, weight: 1, valid_loss: false }));
    expect(task.trainLoss(outAt(1, -2.5), batchWithLabels(labels), 1).dataSync()[0]).toBeCloseTo(2.5, 6);
    expect(task.evalLoss).toBeUndefined();
  });

  it('subtracts H over the previous batch and this one from batch index 2, weighted, and forgets at each epoch', () => {
    const task = lowerTaskOf(taskOf({ type: 'mmilb', lld: refs.lld, entropy: [refs.tv], target: 'M', mem_size: 1, weight: 0.1, valid_loss: false }));
    const b = batchWithLabels(labels);
    const outs = [outAt(1, -1), outAt(2, -2), outAt(3, -3)];
    expect(task.trainLoss(outs[0]!, b, 1).dataSync()[0]).toBeCloseTo(0.1, 6);
    expect(task.trainLoss(outs[1]!, b, 1).dataSync()[0]).toBeCloseTo(0.2, 6);
    const prev = splitBySign(outs[1]!.nodes[refs.tv] as tf.Tensor2D, Float32Array.from(labels));
    const cur = splitBySign(outs[2]!.nodes[refs.tv] as tf.Tensor2D, Float32Array.from(labels));
    const H = entropyH(tf.concat([prev.pos, cur.pos]) as tf.Tensor2D, tf.concat([prev.neg, cur.neg]) as tf.Tensor2D).dataSync()[0]!;
    expect(Number.isFinite(H)).toBe(true);
    expect(task.trainLoss(outs[2]!, b, 1).dataSync()[0]).toBeCloseTo(0.1 * (3 - H), 5);
    // A new epoch starts with an empty memory: no H on its first batches.
    expect(task.trainLoss(outs[2]!, b, 2).dataSync()[0]).toBeCloseTo(0.3, 6);
  });
});
