// BERT's layer hooks (a module rewriting the embedding output, modules before layer k, every hidden state): off they
// change nothing bit for bit; on, the gradients through them (their own weights and BERT's) match finite differences.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { createBert, parseBertConfig, type BertHooks } from '../../../src/runtime/nn/bert/index.js';
import { evalCtx, ParamStore, trainCtx } from '../../../src/runtime/nn/index.js';
import { randomWeights, TINY_CONFIG } from './helpers.js';
import { randn } from '../nn/ref.js';

const IDS = [
  [2, 5, 9, 13, 3, 0, 0],
  [2, 39, 1, 7, 22, 31, 3],
];
const MASK = [
  [1, 1, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 1, 1],
];
const TYPES = [
  [0, 0, 0, 0, 0, 0, 0],
  [0, 0, 0, 1, 1, 1, 1],
];
const H = TINY_CONFIG.hidden_size;

beforeAll(async () => {
  await setupBackend('wasm');
});

function makeBert(seed = 3) {
  const store = new ParamStore({ seed: 1 });
  const bert = createBert(store, 'bert', parseBertConfig(TINY_CONFIG), { weights: randomWeights(seed) });
  return { store, bert };
}

const inputs = () => [tf.tensor2d(IDS, undefined, 'int32'), tf.tensor2d(MASK), tf.tensor2d(TYPES, undefined, 'int32')] as const;

describe('hooks off', () => {
  it('no hooks, empty hooks and identity hooks give the same bits, in eval and in train mode (same dropout seed)', () => {
    const { store, bert } = makeBert();
    const run = (hooks: BertHooks | undefined, train: boolean) =>
      tf.tidy(() => {
        const [i, m, t] = inputs();
        const r = bert.apply(i, m, t, train ? trainCtx(7) : evalCtx(), hooks);
        return Array.from(r.sequence.dataSync());
      });
    for (const train of [false, true]) {
      const base = run(undefined, train);
      expect(run({}, train)).toEqual(base);
      expect(run({ hiddenStates: false, beforeLayer: new Map() }, train)).toEqual(base);
      expect(run({ embeddings: (e) => e, beforeLayer: new Map([[1, (h: tf.Tensor3D) => h]]), hiddenStates: true }, train)).toEqual(base);
    }
    store.dispose();
  });

  it('hidden states: the encoder input and every layer output; the last one is the sequence output', () => {
    const { store, bert } = makeBert();
    tf.tidy(() => {
      const [i, m, t] = inputs();
      const plain = bert.apply(i, m, t, evalCtx());
      expect(plain.hidden).toBeUndefined();
      const r = bert.apply(i, m, t, evalCtx(), { hiddenStates: true, embeddings: (e) => tf.mul(e, 2) as tf.Tensor3D });
      expect(r.hidden).toHaveLength(TINY_CONFIG.num_hidden_layers + 1);
      expect(r.hidden![0]!.shape).toEqual([2, 7, H]);
      expect(Array.from(r.hidden![2]!.dataSync())).toEqual(Array.from(r.sequence.dataSync()));
      // entry 0 is what the encoder reads: the hooked embedding output (twice the plain one)
      const e0 = bert.apply(i, m, t, evalCtx(), { hiddenStates: true }).hidden![0]!.dataSync();
      const e1 = r.hidden![0]!.dataSync();
      for (let k = 0; k < e0.length; k++) expect(e1[k]).toBe(2 * e0[k]!);
      // a hook before layer 1 is not among the hidden states (entry 1 is layer 0's output), but changes the rest
      const before = bert.apply(i, m, t, evalCtx(), { hiddenStates: true, beforeLayer: new Map([[1, (h: tf.Tensor3D) => tf.add(h, 1) as tf.Tensor3D]]) });
      const ref = bert.apply(i, m, t, evalCtx(), { hiddenStates: true });
      expect(Array.from(before.hidden![1]!.dataSync())).toEqual(Array.from(ref.hidden![1]!.dataSync()));
      expect(Array.from(before.sequence.dataSync())).not.toEqual(Array.from(ref.sequence.dataSync()));
    });
    store.dispose();
  });

  it('a hook that changes the shape, or a layer index the model lacks, is refused with MSA6811', () => {
    const { store, bert } = makeBert();
    const [i, m, t] = inputs();
    expect(() => bert.apply(i, m, t, evalCtx(), { embeddings: (e) => tf.slice(e, [0, 0, 0], [2, 7, 4]) as tf.Tensor3D })).toThrow(/embeddings hook returned shape \[2, 7, 4\]/);
    let err: unknown;
    try {
      bert.apply(i, m, t, evalCtx(), { beforeLayer: new Map([[2, (h: tf.Tensor3D) => h]]) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA6811');
    expect((err as MmsaError).message).toContain('layers 0 to 1');
    store.dispose();
  });
});

describe('hooks on: gradient check', () => {
  it('gradients of the hooks\' weights and of BERT\'s weights match central differences', () => {
    const { store, bert } = makeBert(5);
    const w1 = tf.variable(tf.tensor2d(randn(41, H * H).map((v) => v / Math.sqrt(H)), [H, H]));
    const w2 = tf.variable(tf.tensor2d(randn(42, H * H).map((v) => v / Math.sqrt(H)), [H, H]));
    const r1 = tf.tensor3d(randn(43, 2 * 7 * H), [2, 7, H]);
    const r2 = tf.tensor3d(randn(44, 2 * 7 * H), [2, 7, H]);
    const mm = (x: tf.Tensor3D, w: tf.Tensor2D) => tf.reshape(tf.matMul(tf.reshape(x, [-1, H]), w), x.shape) as tf.Tensor3D;
    const hooks: BertHooks = {
      embeddings: (e) => tf.add(e, tf.tanh(mm(e, w1))) as tf.Tensor3D,
      beforeLayer: new Map([[1, (h: tf.Tensor3D) => tf.mul(h, tf.sigmoid(mm(h, w2))) as tf.Tensor3D]]),
      hiddenStates: true,
    };
    // The loss reads the last layer and the first layer's output (a hidden state), so both paths carry gradient.
    const loss = () => {
      const [i, m, t] = inputs();
      const r = bert.apply(i, m, t, evalCtx(), hooks);
      return tf.add(tf.sum(tf.mul(r.sequence, r1)), tf.sum(tf.mul(r.hidden![1]!, r2))) as tf.Scalar;
    };
    const q = store.entries().find((e) => e.key === 'bert.encoder.layer.0.attention.self.query.weight')!.variable;
    const ln = store.entries().find((e) => e.key === 'bert.embeddings.LayerNorm.weight')!.variable;
    const { grads } = tf.variableGrads(loss, [w1, w2, q, ln]);
    const lossValue = () => tf.tidy(() => loss().dataSync()[0]!);
    let checked = 0;
    for (const [vv, picks] of [
      [w1, [0, 37, 500, 1023]],
      [w2, [3, 260, 777]],
      [q, [1, 100, 900]],
      [ln, [0, 17]],
    ] as const) {
      const v = vv as tf.Variable;
      const g = grads[v.name]!.dataSync();
      expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(1e-3);
      for (const k of picks) {
        const base = v.dataSync().slice();
        const h = 1e-2;
        const at = (x: number) => {
          const b = base.slice();
          b[k] = base[k]! + x;
          v.assign(tf.reshape(tf.tensor(b), v.shape));
          return lossValue();
        };
        const num = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.reshape(tf.tensor(base), v.shape));
        expect(Math.abs(num - g[k]!)).toBeLessThan(1e-2 * Math.max(1, Math.abs(num)));
        checked++;
      }
    }
    expect(checked).toBe(12);
    store.dispose();
  });
});
