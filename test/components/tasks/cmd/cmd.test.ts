// Task 'cmd' (MISA's CMD, trains/singleTask/MISA.py): against the formula in plain float64 JS, its gradient against
// central differences, the mean over every input pair (MISA's three shared pairs / 3), and node outputs read by
// reference.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cmdLoss } from '../../../../src/components/tasks/cmd/lower.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { randn, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { batchWithLabels, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

function cmdRef(x: Mat, y: Mat, K: number): number {
  const mean = (m: Mat) => m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0) / m.length);
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
  const mx = mean(x), my = mean(y);
  let total = dist(mx, my);
  for (let k = 2; k <= K; k++) {
    const cx = mean(x.map((r) => r.map((v, j) => (v - mx[j]!) ** k)));
    const cy = mean(y.map((r) => r.map((v, j) => (v - my[j]!) ** k)));
    total += dist(cx, cy);
  }
  return total;
}

describe('cmd task', () => {
  it('is the distance of the means plus the distances of central moments 2..K', () => {
    const a = randn(1, 6 * 4), b = randn(2, 6 * 4).map((v) => 0.5 * v + 0.3);
    for (const K of [1, 2, 5]) {
      const got = cmdLoss(tf.tensor2d(a, [6, 4]), tf.tensor2d(b, [6, 4]), K).dataSync()[0]!;
      expect(got).toBeCloseTo(cmdRef(reshape2(a, 6, 4), reshape2(b, 6, 4), K), 5);
    }
  });

  it('has the gradient of its formula (central differences)', () => {
    const a = tf.variable(tf.tensor2d(randn(3, 5 * 3), [5, 3]));
    const b = tf.tensor2d(randn(4, 5 * 3), [5, 3]);
    const { grads } = tf.variableGrads(() => cmdLoss(a, b, 5), [a]);
    const g = grads[a.name]!.dataSync();
    const dir = randn(7, 15);
    const base = Array.from(a.dataSync());
    const bm = reshape2(Array.from(b.dataSync()), 5, 3);
    const at = (t: number) => cmdRef(reshape2(base.map((v, i) => v + t * dir[i]!), 5, 3), bm, 5);
    const numeric = (at(1e-4) - at(-1e-4)) / 2e-4;
    const analytic = Array.from(g).reduce((s, v, i) => s + v * dir[i]!, 0);
    expect(Math.abs(numeric)).toBeGreaterThan(1e-2);
    expect(analytic).toBeCloseTo(numeric, 3);
  });

  it('averages over every pair of its inputs, weighted, read by reference', () => {
    const refs = ['encoders.sp:shared_text', 'encoders.sp:shared_vision', 'encoders.sp:shared_audio'];
    const t = taskOf({ type: 'cmd', inputs: refs, moments: 5, weight: 0.3, valid_loss: false });
    t.inputs = refs;
    const task = lowerTaskOf(t);
    const [x, y, z] = [5, 6, 7].map((s) => tf.tensor2d(randn(s, 4 * 3), [4, 3]));
    const out = { heads: {}, features: {}, nodes: { [refs[0]!]: x!, [refs[1]!]: y!, [refs[2]!]: z! } };
    const pairs = (cmdLoss(x!, y!, 5).dataSync()[0]! + cmdLoss(x!, z!, 5).dataSync()[0]! + cmdLoss(z!, y!, 5).dataSync()[0]!) / 3;
    expect(task.trainLoss(out, batchWithLabels([0]), 1).dataSync()[0]).toBeCloseTo(0.3 * pairs, 6);
    expect(task.evalLoss).toBeUndefined();
  });
});
