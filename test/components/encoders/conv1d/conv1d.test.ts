// Encoder 'conv1d' (MulT's projections): nn.Conv1d without padding against plain-JS loops, input dropout only in
// training, the shape rule's output length and its error for a kernel longer than the sequence.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx, trainCtx } from '../../../../src/runtime/nn/params.js';
import { maxAbsDiff, randn } from '../../../runtime/nn/ref.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

/** y[b, t, o] = bias[o] + sum_i sum_j w[o, i, j] x[b, t + j, i] (PyTorch's Conv1d on channels-first input). */
function convRef(x: number[], B: number, T: number, D: number, w: number[], out: number, k: number, bias?: number[]): number[] {
  const steps = T - k + 1;
  const y: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < steps; t++) {
      for (let o = 0; o < out; o++) {
        let s = bias ? bias[o]! : 0;
        for (let i = 0; i < D; i++) for (let j = 0; j < k; j++) s += w[(o * D + i) * k + j]! * x[(b * T + t + j) * D + i]!;
        y.push(s);
      }
    }
  }
  return y;
}

describe('conv1d encoder', () => {
  for (const [k, bias] of [[3, false], [1, true], [5, true]] as const) {
    it(`kernel ${k}${bias ? ' with bias' : ''}: matches the plain-JS convolution and shortens the sequence by k - 1`, () => {
      const [B, T, D, out] = [2, 7, 4, 3];
      const n = lowerOne('encoder', { type: 'conv1d', out, kernel: k, bias, dropout: 0.5 }, [['audio', seq(T, D)]]);
      expect(n.node.output.shape).toEqual(['B', T - k + 1, out]);
      expect(n.node.params.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([`weight:${out}x${D}x${k}`, ...(bias ? [`bias:${out}`] : [])]);
      const xs = randn(k, B * T * D);
      const y = n.lowered.apply([value(tf.tensor3d(xs, [B, T, D]))], evalCtx()).tensor;
      expect(y.shape).toEqual([B, T - k + 1, out]);
      expect(maxAbsDiff(y.dataSync(), convRef(xs, B, T, D, n.values('weight'), out, k, bias ? n.values('bias') : undefined))).toBeLessThan(1e-5);
      n.dispose();
    });
  }

  it('drops out its input in training only (MulT text_dropout before the projection)', () => {
    const n = lowerOne('encoder', { type: 'conv1d', out: 2, kernel: 1, bias: false, dropout: 0.5 }, [['text', seq(50, 6)]]);
    const x = tf.ones([1, 50, 6]);
    const a = n.lowered.apply([value(x)], evalCtx()).tensor.dataSync();
    const b = n.lowered.apply([value(x)], trainCtx(3)).tensor.dataSync();
    expect(maxAbsDiff(a, n.lowered.apply([value(x)], evalCtx()).tensor.dataSync())).toBe(0);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0.01);
    n.dispose();
  });

  it('a kernel longer than the sequence is a shape error at the kernel', () => {
    const r = runInfer(getComponent('encoder', 'conv1d')!, { type: 'conv1d', out: 4, kernel: 6, bias: false, dropout: 0 }, [['text', seq(5, 3)]]);
    expect(r.result).toBeUndefined();
    expect(r.reports.map((x) => [x.code, x.args['detail']])).toEqual([['MSA4004', "kernel 6 is longer than the 5 steps of 'text'"]]);
    expect(r.reports[0]!.extras?.hint).toBe('use a kernel of at most 5');
  });
});
