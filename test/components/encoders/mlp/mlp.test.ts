// Encoder 'mlp': pooling of a sequence, Linear -> activation per hidden size, then `out`, against plain JS.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { flat, linearRef, maxAbsDiff, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('mlp encoder', () => {
  it('pools the last valid step, then tanh hidden layers and the output Linear', () => {
    const n = lowerOne('encoder', { type: 'mlp', hidden: [3], out: 2, dropout: 0, activation: 'tanh', pool: 'last' }, [['audio', seq(3, 2, { lengths: 'audio_lengths' })]]);
    expect(n.node.params.map((p) => p.name)).toEqual(['layers.0.weight', 'layers.0.bias', 'out.weight', 'out.bias']);
    const x = [[[1, 2], [3, 4], [5, 6]], [[-1, 0], [0.5, 0.5], [9, 9]]];
    const y = n.lowered.apply([value(tf.tensor3d(x), [3, 2])], evalCtx()).tensor;
    const pooled: Mat = [[5, 6], [0.5, 0.5]];
    const h = linearRef(pooled, reshape2(n.values('layers.0.weight'), 3, 2), n.values('layers.0.bias')).map((r) => r.map(Math.tanh));
    expect(maxAbsDiff(y.dataSync(), flat(linearRef(h, reshape2(n.values('out.weight'), 2, 3), n.values('out.bias'))))).toBeLessThan(1e-5);
    n.dispose();
  });

  it('with pool none runs the layers on every step and keeps the sequence and its lengths (TFR-Net generators)', () => {
    const n = lowerOne('encoder', { type: 'mlp', hidden: [], out: 2, dropout: 0, activation: 'relu', pool: 'none' }, [['audio', seq(3, 4, { lengths: 'audio_lengths' })]]);
    expect(n.node.output.shape).toEqual(['B', 3, 2]);
    expect(n.node.output.kind).toBe('sequence');
    const x = [[[1, 2, 0, 1], [3, 4, 1, 0], [5, 6, -1, 2]], [[-1, 0, 2, 2], [0.5, 0.5, 0, 0], [9, 9, 1, 1]]];
    const out = n.lowered.apply([value(tf.tensor3d(x), [3, 2])], evalCtx());
    expect(out.tensor.shape).toEqual([2, 3, 2]);
    expect(Array.from(out.lengths!)).toEqual([3, 2]);
    const want = x.flatMap((rows) => flat(linearRef(rows, reshape2(n.values('out.weight'), 2, 4), n.values('out.bias'))));
    expect(maxAbsDiff(out.tensor.dataSync(), want)).toBeLessThan(1e-5);
    n.dispose();
  });
});
