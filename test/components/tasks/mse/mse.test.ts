// Task 'mse': the batch mean of (y_hat - y)^2 of its head against its label.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { batchWithLabels, lowerTaskOf, outputs, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('mse task', () => {
  it('is the batch mean of squared errors', () => {
    const mse = lowerTaskOf(taskOf({ type: 'mse', head: 'M', target: 'M', weight: 1, valid_loss: true }));
    const out = outputs('M', tf.tensor2d([[2], [0], [0.5]]));
    expect(mse.trainLoss(out, batchWithLabels([1, -1, 0.5]), 1).dataSync()[0]).toBeCloseTo(2 / 3, 6);
  });
});
