// Task 'l1': the batch mean of |y_hat - y| of its head against its label, weighted; the same loss for validation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { batchWithLabels, lowerTaskOf, outputs, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const P = { type: 'l1', head: 'M', target: 'M', weight: 2, valid_loss: true };

describe('l1 task', () => {
  it('is the weighted batch mean of absolute errors, the same for validation', () => {
    const l1 = lowerTaskOf(taskOf(P));
    const b = batchWithLabels([1, -1, 0.5]);
    const out = outputs('M', tf.tensor2d([[2], [0], [0.5]]));
    expect(l1.trainLoss(out, b, 1).dataSync()[0]).toBeCloseTo((2 * (1 + 1 + 0)) / 3, 6);
    expect(l1.evalLoss!(out, b).dataSync()[0]).toBeCloseTo(4 / 3, 6);
    expect(lowerTaskOf(taskOf({ ...P, valid_loss: false })).evalLoss).toBeUndefined();
  });

  it('names a missing head or label', () => {
    const l1 = lowerTaskOf(taskOf(P));
    expect(() => l1.trainLoss(outputs('X', tf.tensor2d([[1]])), batchWithLabels([1]), 1)).toThrow(expect.objectContaining({ code: 'MSA6702' }));
    expect(() => l1.trainLoss(outputs('M', tf.tensor2d([[1]])), batchWithLabels([1], 'T'), 1)).toThrow(/reads label 'M'/);
  });
});
