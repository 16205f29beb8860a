// Task 'diff' (MISA's DiffLoss): against the formula in plain float64 JS; the row norms pass no gradient; it reads
// node outputs by reference and names a missing one.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffLoss } from '../../../../src/components/tasks/diff/lower.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { randn, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { batchWithLabels, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

function diffRef(a: Mat, b: Mat): number {
  const norm = (m: Mat): Mat => {
    const mean = m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0) / m.length);
    const c = m.map((r) => r.map((v, j) => v - mean[j]!));
    return c.map((r) => {
      const n = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
      return r.map((v) => v / (n + 1e-6));
    });
  };
  const x = norm(a), y = norm(b);
  let sum = 0;
  for (let i = 0; i < x[0]!.length; i++) for (let j = 0; j < y[0]!.length; j++) sum += x.reduce((s, r, k) => s + r[i]! * y[k]![j]!, 0) ** 2;
  return sum / (x[0]!.length * y[0]!.length);
}

describe('diff task', () => {
  it('is the mean squared cross-correlation of centred, row-normalised inputs', () => {
    const a = randn(3, 5 * 4), b = randn(4, 5 * 3);
    const got = diffLoss(tf.tensor2d(a, [5, 4]), tf.tensor2d(b, [5, 3])).dataSync()[0]!;
    expect(got).toBeCloseTo(diffRef(reshape2(a, 5, 4), reshape2(b, 5, 3)), 5);
  });

  it('passes no gradient through the row norms (MISA detaches them)', () => {
    const a = tf.variable(tf.tensor2d(randn(5, 4 * 3), [4, 3]));
    const b = tf.tensor2d(randn(6, 4 * 3), [4, 3]);
    const { grads } = tf.variableGrads(() => diffLoss(a, b), [a]);
    // The same loss with the norms treated as constants, differentiated numerically along one direction.
    const g = grads[a.name]!.dataSync();
    const eps = 1e-3;
    const dir = randn(7, 12);
    const at = (t: number) => {
      const shifted = Array.from(a.dataSync(), (v, i) => v + t * dir[i]!);
      const am = reshape2(shifted, 4, 3);
      // norms frozen at the unshifted point
      const mean0 = [0, 1, 2].map((j) => reshape2(Array.from(a.dataSync()), 4, 3).reduce((s, r) => s + r[j]!, 0) / 4);
      const c0 = reshape2(Array.from(a.dataSync()), 4, 3).map((r) => r.map((v, j) => v - mean0[j]!));
      const n0 = c0.map((r) => Math.sqrt(r.reduce((s, v) => s + v * v, 0)));
      const mean = [0, 1, 2].map((j) => am.reduce((s, r) => s + r[j]!, 0) / 4);
      const x = am.map((r, i) => r.map((v, j) => (v - mean[j]!) / (n0[i]! + 1e-6)));
      const bm = reshape2(Array.from(b.dataSync()), 4, 3);
      const bmean = [0, 1, 2].map((j) => bm.reduce((s, r) => s + r[j]!, 0) / 4);
      const y = bm.map((r) => {
        const c = r.map((v, j) => v - bmean[j]!);
        const n = Math.sqrt(c.reduce((s, v) => s + v * v, 0));
        return c.map((v) => v / (n + 1e-6));
      });
      let sum = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) sum += x.reduce((s, r, k) => s + r[i]! * y[k]![j]!, 0) ** 2;
      return sum / 9;
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    const analytic = Array.from(g).reduce((s, v, i) => s + v * dir[i]!, 0);
    expect(analytic).toBeCloseTo(numeric, 3);
  });

  it('reads two node outputs by reference, weighted, and names one the model lacks', () => {
    const t = taskOf({ type: 'diff', inputs: ['encoders.sp:private_text', 'encoders.sp:shared_text'], weight: 0.5, valid_loss: false });
    t.inputs = ['encoders.sp:private_text', 'encoders.sp:shared_text'];
    const diff = lowerTaskOf(t);
    const a = tf.tensor2d(randn(8, 6 * 2), [6, 2]), b = tf.tensor2d(randn(9, 6 * 2), [6, 2]);
    const out = { heads: {}, features: {}, nodes: { 'encoders.sp:private_text': a, 'encoders.sp:shared_text': b } };
    expect(diff.trainLoss(out, batchWithLabels([0]), 1).dataSync()[0]).toBeCloseTo(0.5 * diffLoss(a, b).dataSync()[0]!, 6);
    expect(diff.evalLoss).toBeUndefined();
    expect(() => diff.trainLoss({ heads: {}, features: {}, nodes: {} }, batchWithLabels([0]), 1)).toThrow(expect.objectContaining({ code: 'MSA6702' }));
  });
});
