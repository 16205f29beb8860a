// Head 'classification': an MLP to one logit per class; it says how many classes it outputs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { flat, linearRef, maxAbsDiff, randn, reshape2 } from '../../../runtime/nn/ref.js';
import { lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('classification head', () => {
  it('outputs num_classes logits', () => {
    const p = { type: 'classification', input: 'fusion', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, num_classes: 3 };
    const n = lowerOne('head', p, [['fusion', vec(4)]]);
    expect(n.node.output).toEqual({ kind: 'logits', shape: ['B', 3], dtype: 'float32' });
    const xs = randn(9, 2 * 4);
    const y = n.lowered.apply([value(tf.tensor2d(xs, [2, 4]))], evalCtx()).tensor;
    expect(maxAbsDiff(y.dataSync(), flat(linearRef(reshape2(xs, 2, 4), reshape2(n.values('out.weight'), 3, 4), n.values('out.bias'))))).toBeLessThan(1e-5);
    const def = getComponent('head', 'classification')!;
    expect(def.predicts).toBe('classification');
    expect(def.numClasses!(p)).toBe(3);
    n.dispose();
  });
});
