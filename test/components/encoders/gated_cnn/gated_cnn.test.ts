// Encoder 'gated_cnn': Linear, stacked residual GLU convolutions, masked pooling against plain JS; a padded row gives
// what the row alone gives; gradients checked numerically.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { linearRef, maxAbsDiff, randn, reshape2, reshape3, sig, type Mat } from '../../../runtime/nn/ref.js';
import { conv1dRef, convWeight, maxRows, meanRows } from '../../conv-ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('gated_cnn encoder', () => {
  const params = { type: 'gated_cnn', channels: 3, kernel: 3, layers: 2, dropout: 0, pool: 'mean', out: 2 };

  function reference(n: ReturnType<typeof lowerOne>, row: Mat, pool: 'mean' | 'max'): number[] {
    let h = linearRef(row, reshape2(n.values('proj.weight'), 3, row[0]!.length), n.values('proj.bias'));
    for (let i = 0; i < 2; i++) {
      const y = conv1dRef(h, convWeight(n.values(`layers.${i}.weight`), 6, 3, 3), n.values(`layers.${i}.bias`), { padding: 'same' });
      h = h.map((r, t) => r.map((v, c) => (v + y[t]![c]! * sig(y[t]![c + 3]!)) * Math.SQRT1_2));
    }
    const z = pool === 'mean' ? meanRows(h) : maxRows(h);
    return linearRef([z], reshape2(n.values('linear.weight'), 2, 3), n.values('linear.bias'))[0]!;
  }

  for (const pool of ['mean', 'max'] as const) {
    it(`GLU layers with residuals, ${pool} over the valid frames only`, () => {
      const n = lowerOne('encoder', { ...params, pool }, [['audio', seq(7, 4, { lengths: 'audio_lengths' })]]);
      expect(n.node.params.map((p) => p.name)).toEqual(['proj.weight', 'proj.bias', 'layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'linear.weight', 'linear.bias']);
      const x = reshape3(randn(11, 2 * 7 * 4), 2, 7, 4);
      const lengths = [7, 3];
      const dirty = x.map((r, b) => r.map((f, t) => (t < lengths[b]! ? f : f.map(() => -40))));
      const y = n.lowered.apply([value(tf.tensor3d(dirty), lengths)], evalCtx()).tensor;
      const want = x.map((row, b) => reference(n, row.slice(0, lengths[b]), pool));
      expect(maxAbsDiff(y.dataSync(), want.flat())).toBeLessThan(1e-5);
      n.dispose();
    });
  }

  it('keeps the sequence and its lengths with pool: none (to feed another sequence encoder)', () => {
    const n = lowerOne('encoder', { ...params, pool: 'none', out: null }, [['audio', seq(5, 2, { lengths: 'audio_lengths' })]]);
    expect(n.node.output.shape).toEqual(['B', 5, 3]);
    const out = n.lowered.apply([value(tf.tensor3d(reshape3(randn(2, 2 * 5 * 2), 2, 5, 2)), [5, 2])], evalCtx());
    expect(out.tensor.shape).toEqual([2, 5, 3]);
    expect(Array.from(out.lengths!)).toEqual([5, 2]);
    expect(Array.from(out.tensor.slice([1, 2, 0], [1, 3, 3]).dataSync()).every((v) => v === 0)).toBe(true);
    n.dispose();
  });

  it('has the gradients of its maths (numerical check on a tiny case)', () => {
    const n = lowerOne('encoder', params, [['audio', seq(6, 3, { lengths: 'audio_lengths' })]], 7);
    const c = checkParamGradient(n.lowered, n.store, value(tf.tensor3d(reshape3(randn(5, 2 * 6 * 3), 2, 6, 3)), [6, 4]));
    expect(gradError(c)).toBeLessThan(1e-2);
    expect(Math.abs(c.analytic)).toBeGreaterThan(1e-3);
    n.dispose();
  });
});
