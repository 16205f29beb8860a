// Fusion 'tensor' (TFN): the outer-product block against plain JS.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { tensorFusion } from '../../../../src/components/fusions/tensor/nn.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('tensor fusion', () => {
  it('tensor fusion flattens audio slowest, then video, then text, with a prepended 1', () => {
    const a = [[0.5, -1]], v = [[2]], t = [[3, 4, 5]];
    const z = tensorFusion([tf.tensor2d(a), tf.tensor2d(v), tf.tensor2d(t)]);
    expect(z.shape).toEqual([1, 3 * 2 * 4]);
    const ah = [1, ...a[0]!], vh = [1, ...v[0]!], th = [1, ...t[0]!];
    const zd = z.dataSync();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 4; k++) {
      expect(zd[(i * 2 + j) * 4 + k]).toBeCloseTo(ah[i]! * vh[j]! * th[k]!, 6);
    }
  });
});
