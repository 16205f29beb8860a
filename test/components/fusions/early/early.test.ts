// Fusion 'early' (EF-LSTM): per-time-step concatenation.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { earlyFusion } from '../../../../src/components/fusions/early/nn.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('early fusion', () => {
  it('early fusion concatenates per time step', () => {
    const a = tf.tensor3d([1, 2, 3, 4], [1, 2, 2]);
    const b = tf.tensor3d([5, 6], [1, 2, 1]);
    expect(Array.from(earlyFusion([a, b]).dataSync())).toEqual([1, 2, 5, 3, 4, 6]);
    expect(() => earlyFusion([a, tf.zeros([1, 3, 1]) as tf.Tensor3D])).toThrow(/sequence lengths differ/);
  });
});
