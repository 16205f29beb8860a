// Fusion 'late' (LF-DNN): encoded vectors combined by concatenation, mean or sum; no parameters.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('late fusion', () => {
  it.each([
    ['concat', [[1, 2, 3, 5]], 4],
    ['mean', [[2, 3.5]], 2],
    ['sum', [[4, 7]], 2],
  ] as const)('combine %s', (combine, want, size) => {
    const n = lowerOne('fusion', { type: 'late', inputs: ['a', 'b'], combine }, [['a', vec(2)], ['b', vec(2)]]);
    expect(n.node.output.shape).toEqual(['B', size]);
    const y = n.lowered.apply([value(tf.tensor2d([[1, 2]])), value(tf.tensor2d([[3, 5]]))], evalCtx()).tensor;
    expect(y.arraySync()).toEqual(want);
    n.dispose();
  });
});
