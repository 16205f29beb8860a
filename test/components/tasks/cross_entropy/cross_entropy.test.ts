// Task 'cross_entropy': the batch mean of the softmax negative log-likelihood of integer class labels.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { batchWithLabels, lowerTaskOf, outputs, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('cross_entropy task', () => {
  it('is the mean softmax NLL of integer classes, and rejects a label that is not a class index', () => {
    const ce = lowerTaskOf(taskOf({ type: 'cross_entropy', head: 'C', target: 'M', weight: 1, valid_loss: true }));
    const logits = [[1, 2, 0.5], [0, 0, 3]];
    const nll = logits.map((r, i) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0)) - r[[1, 2][i]!]!);
    expect(ce.trainLoss(outputs('C', tf.tensor2d(logits)), batchWithLabels([1, 2]), 1).dataSync()[0]).toBeCloseTo((nll[0]! + nll[1]!) / 2, 5);
    expect(() => ce.trainLoss(outputs('C', tf.tensor2d(logits)), batchWithLabels([1, 0.5]), 1)).toThrow(/not a class index/);
  });
});
