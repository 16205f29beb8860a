// Encoder 'window_pool': window summaries against plain JS (padding never leaks), window counts as lengths, the
// reduced length in shape inference, and a wrapped LSTM that sees exactly the window sequence.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { maxAbsDiff, randn } from '../../../runtime/nn/ref.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { checkInputGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

/** Plain-JS windows: start every `stride` frames below T, frames below the row's length only, empty windows 0. */
function windowsRef(x: number[][][], lengths: number[], window: number, stride: number, op: 'mean' | 'max'): number[][][] {
  const T = x[0]!.length;
  const n = Math.ceil(T / stride);
  return x.map((row, b) =>
    Array.from({ length: n }, (_, i) => {
      const frames = row.slice(i * stride, Math.min(i * stride + window, lengths[b]!, T));
      const D = row[0]!.length;
      if (frames.length === 0) return new Array(D).fill(0);
      return Array.from({ length: D }, (_, d) => {
        const v = frames.map((f) => f[d]!);
        return op === 'mean' ? v.reduce((a, c) => a + c, 0) / v.length : Math.max(...v);
      });
    }),
  );
}

function sample(B: number, T: number, D: number, seed: number): number[][][] {
  const r = randn(seed, B * T * D);
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, d) => r[(b * T + t) * D + d]!)));
}

describe('window_pool encoder', () => {
  const cases: Array<[number, number, 'mean' | 'max']> = [
    [4, 4, 'mean'],
    [4, 2, 'max'],
    [3, 2, 'mean'],
    [5, 3, 'max'],
    [2, 5, 'mean'],
    [100, 100, 'max'],
    [50, 4, 'mean'],
  ];
  for (const [window, stride, op] of cases) {
    it(`window ${window}, stride ${stride}, ${op}: summaries of valid frames only, window counts as lengths`, () => {
      const n = lowerOne('encoder', { type: 'window_pool', window, stride, op, encoder: null }, [['audio', seq(11, 3, { lengths: 'audio_lengths' })]]);
      const x = sample(3, 11, 3, window * 10 + stride);
      const lengths = [11, 6, 1];
      // Garbage in the padded frames must not change anything.
      const dirty = x.map((row, b) => row.map((f, t) => (t < lengths[b]! ? f : f.map(() => 1e6))));
      const out = n.lowered.apply([value(tf.tensor3d(dirty), lengths)], evalCtx());
      expect(out.tensor.shape).toEqual([3, Math.ceil(11 / stride), 3]);
      expect(n.node.output.shape).toEqual(['B', Math.ceil(11 / stride), 3]);
      expect(maxAbsDiff(out.tensor.dataSync(), windowsRef(x, lengths, window, stride, op).flat(2))).toBeLessThan(1e-5);
      expect(Array.from(out.lengths!)).toEqual(lengths.map((l) => Math.max(1, Math.ceil(l / stride))));
      n.dispose();
    });
  }

  it('without lengths every frame counts and no lengths are invented', () => {
    const n = lowerOne('encoder', { type: 'window_pool', window: 3, op: 'mean', encoder: null }, [['vision', seq(7, 2)]]);
    const x = sample(2, 7, 2, 9);
    const out = n.lowered.apply([value(tf.tensor3d(x))], evalCtx());
    expect(out.lengths).toBeUndefined();
    expect(maxAbsDiff(out.tensor.dataSync(), windowsRef(x, [7, 7], 3, 3, 'mean').flat(2))).toBeLessThan(1e-5);
    n.dispose();
  });

  it('passes gradients to the frames (numerical check), none to padded ones', () => {
    for (const op of ['mean', 'max'] as const) {
      const n = lowerOne('encoder', { type: 'window_pool', window: 4, stride: 2, op, encoder: null }, [['audio', seq(9, 2, { lengths: 'audio_lengths' })]]);
      const x = tf.tensor3d(sample(2, 9, 2, 4));
      const input = value(x, [9, 5]);
      expect(gradError(checkInputGradient(n.lowered, input))).toBeLessThan(1e-2);
      const g = tf.grad((t: tf.Tensor) => tf.sum(n.lowered.apply([{ ...input, tensor: t }], evalCtx()).tensor))(x).arraySync() as number[][][];
      expect(g[1]!.slice(5).flat().every((v) => v === 0)).toBe(true);
      expect(g[1]!.slice(0, 5).flat().some((v) => v !== 0)).toBe(true);
      n.dispose();
    }
  });

  it('reports the reduced length of a 10^4-frame interview and names the wrapped encoder\'s parameters under encoder.', () => {
    const def = getComponent('encoder', 'window_pool')!;
    const lstm = { type: 'lstm', hidden: 8, layers: 1, dropout: 0, bidirectional: false, out: 4 };
    const { result } = runInfer(def, { type: 'window_pool', window: 100, op: 'mean', encoder: lstm }, [['audio', seq(10000, 74, { lengths: 'audio_lengths' })]]);
    expect(result!.output).toEqual({ kind: 'vector', shape: ['B', 4], dtype: 'float32' });
    expect(result!.params.map((p) => p.name)).toEqual(['encoder.lstm.weight_ih_l0', 'encoder.lstm.weight_hh_l0', 'encoder.lstm.bias_ih_l0', 'encoder.lstm.bias_hh_l0', 'encoder.linear.weight', 'encoder.linear.bias']);
    expect(result!.params[0]!.shape).toEqual([32, 74]);
    expect(result!.features!['windows']!.shape).toEqual(['B', 100, 74]);
    const bare = runInfer(def, { type: 'window_pool', window: 200, stride: 100, op: 'max', encoder: null }, [['audio', seq(10000, 74, { lengths: 'audio_lengths' })]]);
    expect(bare.result!.output.shape).toEqual(['B', 100, 74]);
    expect(def.summary({ type: 'window_pool', window: 100, op: 'mean', encoder: lstm })).toBe('window_pool(window 100, mean) -> lstm(hidden 8, layers 1) -> linear 4');
  });

  it('a wrapped lstm runs packed over the windows, as the lstm alone on the window sequence', () => {
    const lstm = { type: 'lstm', hidden: 5, layers: 1, dropout: 0, bidirectional: false, out: null };
    const wrapped = lowerOne('encoder', { type: 'window_pool', window: 3, op: 'mean', encoder: lstm }, [['audio', seq(12, 2, { lengths: 'audio_lengths' })]]);
    const alone = lowerOne('encoder', { ...lstm, packed: true }, [['audio', seq(4, 2, { lengths: 'audio_lengths' })]]);
    for (const e of alone.store.entries()) e.variable.assign(wrapped.store.get(e.key.replace('encoders.n.', 'encoders.n.encoder.')));
    const pool = lowerOne('encoder', { type: 'window_pool', window: 3, op: 'mean', encoder: null }, [['audio', seq(12, 2, { lengths: 'audio_lengths' })]]);
    const x = tf.tensor3d(sample(2, 12, 2, 21));
    const windows = pool.lowered.apply([value(x, [12, 5])], evalCtx());
    expect(Array.from(windows.lengths!)).toEqual([4, 2]);
    const want = alone.lowered.apply([windows], evalCtx()).tensor;
    const got = wrapped.lowered.apply([value(x, [12, 5])], evalCtx()).tensor;
    expect(got.shape).toEqual([2, 5]);
    expect(maxAbsDiff(wrapped.lowered.apply([value(x, [12, 5])], evalCtx()).outputs!['windows']!.dataSync(), windows.tensor.dataSync())).toBe(0);
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(1e-6);
    for (const n of [wrapped, alone, pool]) n.dispose();
  });
});
