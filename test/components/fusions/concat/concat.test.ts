// Fusion 'concat': the inputs' features side by side, in input order; no parameters.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('concat fusion', () => {
  it('concatenates in input order and sums the sizes', () => {
    const n = lowerOne('fusion', { type: 'concat', inputs: ['a', 'b'] }, [['a', vec(2)], ['b', vec(1)]]);
    expect(n.node.output.shape).toEqual(['B', 3]);
    const y = n.lowered.apply([value(tf.tensor2d([[1, 2]])), value(tf.tensor2d([[3]]))], evalCtx()).tensor;
    expect(y.arraySync()).toEqual([[1, 2, 3]]);
    n.dispose();
  });
});
