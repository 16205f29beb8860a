// Task 'node_loss': the weighted mean of a loss a node published as a named output, for training and validation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { batchWithLabels, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const P = { type: 'node_loss', input: 'fusion:translation_loss', weight: 0.1, valid_loss: true };

describe('node_loss task', () => {
  it('is the weight times the named output, in the validation loss unless told otherwise', () => {
    const t = lowerTaskOf(taskOf(P));
    const out = { heads: {}, features: {}, nodes: { 'fusion:translation_loss': tf.tensor1d([2.5]) } };
    expect(t.trainLoss(out, batchWithLabels([0]), 1).dataSync()[0]).toBeCloseTo(0.25, 6);
    expect(t.evalLoss!(out, batchWithLabels([0])).dataSync()[0]).toBeCloseTo(0.25, 6);
    expect(lowerTaskOf(taskOf({ ...P, valid_loss: false })).evalLoss).toBeUndefined();
  });

  it('names the output it could not find and what there is', () => {
    const t = lowerTaskOf(taskOf(P));
    const out = { heads: {}, features: {}, nodes: { fusion: tf.zeros([1, 2]) } };
    expect(() => t.trainLoss(out, batchWithLabels([0]), 1)).toThrow(expect.objectContaining({ code: 'MSA6702' }));
    expect(() => t.trainLoss(out, batchWithLabels([0]), 1)).toThrow(/reads 'fusion:translation_loss'/);
  });
});
