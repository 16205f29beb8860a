import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import {
  Rng, computeFans, deriveSeed, linearInit, normalInit, rnnInit, xavierNormalInit, xavierUniformInit,
} from '../../../src/runtime/nn/init.js';
import { ParamStore, trainCtx } from '../../../src/runtime/nn/params.js';
import { createLinear } from '../../../src/runtime/nn/layers.js';
import { createLstm } from '../../../src/runtime/nn/rnn.js';
import { createAuViSubNet, createMlpHead } from '../../../src/runtime/nn/blocks.js';
import { createSubNet } from '../../../src/components/encoders/subnet/nn.js';
import { createLowRankFusion } from '../../../src/components/fusions/low_rank/nn.js';
import { randn } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const stats = (a: Float32Array) => {
  let min = Infinity, max = -Infinity, s = 0, s2 = 0;
  for (const v of a) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    s += v;
    s2 += v * v;
  }
  const mean = s / a.length;
  return { min, max, mean, std: Math.sqrt(s2 / a.length - mean * mean) };
};

describe('Rng and deriveSeed', () => {
  it('xoshiro128** is deterministic per seed and uniform-looking', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
    const r = new Rng(0);
    const u = Float32Array.from({ length: 20000 }, () => r.nextFloat());
    const s = stats(u);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s.std - Math.sqrt(1 / 12))).toBeLessThan(0.01);
    const n = stats(normalInit()([20000], new Rng(1)));
    expect(Math.abs(n.mean)).toBeLessThan(0.03);
    expect(Math.abs(n.std - 1)).toBeLessThan(0.03);
  });

  it('derives stable, path-sensitive seeds', () => {
    expect(deriveSeed(1111, 'encoders.audio.rnn')).toBe(deriveSeed(1111, 'encoders.audio.rnn'));
    expect(deriveSeed(1111, 'encoders.audio.rnn')).not.toBe(deriveSeed(1111, 'encoders.video.rnn'));
    expect(deriveSeed(1111, 'a')).not.toBe(deriveSeed(1112, 'a'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1 + 2 ** 32, 'a'));
    const s = deriveSeed(0, '');
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});

describe('PyTorch default initialisers', () => {
  it('linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias', () => {
    const store = new ParamStore({ seed: 1 });
    const lin = createLinear(store, 'fc', 64, 200);
    const bound = 1 / 8;
    for (const v of [lin.weight, lin.bias!]) {
      const s = stats(v.dataSync() as Float32Array);
      expect(s.min).toBeGreaterThanOrEqual(-bound);
      expect(s.max).toBeLessThanOrEqual(bound);
      expect(s.max).toBeGreaterThan(0.9 * bound);
    }
    const s = stats(lin.weight.dataSync() as Float32Array);
    expect(Math.abs(s.std - bound / Math.sqrt(3))).toBeLessThan(0.003);
    store.dispose();
  });

  it('rnn: every weight and both biases U(-1/sqrt(H), 1/sqrt(H))', () => {
    const store = new ParamStore({ seed: 2 });
    createLstm(store, 'rnn', { inputSize: 10, hiddenSize: 25 });
    for (const e of store.entries()) {
      const s = stats(e.variable.dataSync() as Float32Array);
      expect(s.min).toBeGreaterThanOrEqual(-0.2);
      expect(s.max).toBeLessThanOrEqual(0.2);
      expect(s.max).toBeGreaterThan(0.17);
    }
    expect(rnnInit(4)([1000], new Rng(3)).every((v) => Math.abs(v) <= 0.5)).toBe(true);
    store.dispose();
  });

  it('xavier with PyTorch fan rules, including 3-D LMF factors', () => {
    expect(computeFans([3, 17, 1])).toEqual({ fanIn: 17, fanOut: 3 });
    expect(computeFans([4, 5, 6])).toEqual({ fanIn: 30, fanOut: 24 });
    expect(computeFans([1, 4])).toEqual({ fanIn: 4, fanOut: 1 });
    const xn = stats(xavierNormalInit()([50, 30, 10], new Rng(4)));
    expect(Math.abs(xn.std - Math.sqrt(2 / (300 + 500)))).toBeLessThan(0.002);
    const xu = stats(xavierUniformInit(2)([300, 100], new Rng(5)));
    const a = 2 * Math.sqrt(6 / 400);
    expect(xu.max).toBeLessThanOrEqual(a);
    expect(xu.min).toBeGreaterThanOrEqual(-a);
    expect(Math.abs(xu.std - a / Math.sqrt(3))).toBeLessThan(0.005);
    const store = new ParamStore({ seed: 6 });
    createLowRankFusion(store, 'lmf', [40, 40, 40], 20);
    const f = stats(store.get('lmf.audio_factor').dataSync() as Float32Array);
    expect(Math.abs(f.std - Math.sqrt(2 / (41 + 20)))).toBeLessThan(0.02);
    expect(Array.from(store.get('lmf.fusion_bias').dataSync())).toEqual([0]);
    expect(() => linearInit(0)([2], new Rng(1))).not.toThrow();
    store.dispose();
  });
});

describe('ParamStore', () => {
  it('same seed gives identical weights; a different path or seed gives different ones; order does not matter', () => {
    const s1 = new ParamStore({ seed: 7 });
    createLinear(s1, 'a.fc', 4, 3);
    createLinear(s1, 'b.fc', 4, 3);
    const s2 = new ParamStore({ seed: 7 });
    createLinear(s2, 'b.fc', 4, 3); // created in the other order
    createLinear(s2, 'a.fc', 4, 3);
    const s3 = new ParamStore({ seed: 8 });
    createLinear(s3, 'a.fc', 4, 3);
    const w = (s: ParamStore, k: string) => Array.from(s.get(k).dataSync());
    expect(w(s2, 'a.fc.weight')).toEqual(w(s1, 'a.fc.weight'));
    expect(w(s2, 'b.fc.bias')).toEqual(w(s1, 'b.fc.bias'));
    expect(w(s1, 'b.fc.weight')).not.toEqual(w(s1, 'a.fc.weight'));
    expect(w(s3, 'a.fc.weight')).not.toEqual(w(s1, 'a.fc.weight'));
    expect(() => createLinear(s1, 'a.fc', 4, 3)).toThrow(/registered twice/);
    [s1, s2, s3].forEach((s) => s.dispose());
  });

  it('selects parameter groups by path prefix and name pattern; buffers are excluded', () => {
    const store = new ParamStore({ seed: 9 });
    createAuViSubNet(store, 'audio_model', 3, 4, 2);
    createAuViSubNet(store, 'audio_model2', 3, 4, 2);
    createSubNet(store, 'video_subnet', 3, 4, 0);
    createMlpHead(store, 'post_fusion', 4, 4, 0);
    expect(store.select({ prefix: 'audio_model' }).map((e) => e.key)).toEqual([
      'audio_model.rnn.weight_ih_l0', 'audio_model.rnn.weight_hh_l0', 'audio_model.rnn.bias_ih_l0', 'audio_model.rnn.bias_hh_l0',
      'audio_model.linear_1.weight', 'audio_model.linear_1.bias',
    ]);
    const noDecay = store.select({ nameIncludes: ['bias', 'LayerNorm.weight'] });
    expect(noDecay.every((e) => e.key.includes('bias'))).toBe(true);
    expect(noDecay).toHaveLength(13); // 3 per AuViSubNet, 4 in the SubNet, 3 in the head
    const others = store.select({ exclude: { prefix: ['audio_model', 'audio_model2'] } });
    expect(others.some((e) => e.key.startsWith('audio_model'))).toBe(false);
    expect(others.some((e) => e.buffer)).toBe(false);
    expect(store.select({ prefix: 'video_subnet.norm', buffers: true }).map((e) => e.name)).toEqual([
      'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked',
    ]);
    store.setTrainable({ prefix: 'post_fusion' }, false);
    expect(store.select({ trainableOnly: true, prefix: 'post_fusion' })).toHaveLength(0);
    expect(store.trainableVariables().length).toBe(store.select({ trainableOnly: true }).length);
    expect(store.numParams()).toBe(store.select().reduce((n, e) => n + e.variable.size, 0));
    const sd = store.stateDict();
    const store2 = new ParamStore({ seed: 10 });
    createAuViSubNet(store2, 'audio_model', 3, 4, 2);
    expect(() => store2.loadStateDict(sd)).toThrow(/unexpected key 'audio_model2/);
    store2.loadStateDict(sd, { strict: false });
    expect(Array.from(store2.get('audio_model.linear_1.weight').dataSync())).toEqual(Array.from(store.get('audio_model.linear_1.weight').dataSync()));
    store.dispose();
    store2.dispose();
  });

  it('a small Self-MM-like model gets finite, non-zero gradients for every trainable variable', () => {
    const store = new ParamStore({ seed: 11 });
    const audio = createAuViSubNet(store, 'audio_model', 3, 4, 2);
    const sub = createSubNet(store, 'video_subnet', 5, 4, 0.1);
    const head = createMlpHead(store, 'post_fusion', 2 + 4, 16, 0.1);
    const xa = tf.tensor3d(randn(1, 4 * 6 * 3), [4, 6, 3]);
    const xv = tf.tensor2d(randn(2, 4 * 5), [4, 5]);
    const y = tf.tensor2d([0.5, -1, 2, 0.1], [4, 1]);
    const ctx = trainCtx(3);
    const { value, grads } = tf.variableGrads(() => {
      const f = tf.concat([audio.apply(xa, ctx, [6, 3, 1, 5]), sub.apply(xv, ctx)], 1) as tf.Tensor2D;
      return tf.mean(tf.square(tf.sub(head.apply(f, ctx).output, y))) as tf.Scalar; // MSE: an L1 mean can cancel exactly to a zero bias grad
    }, store.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads).sort()).toEqual(store.trainableVariables().map((v) => v.name).sort());
    for (const v of store.trainableVariables()) {
      const g = grads[v.name]!.dataSync();
      expect(g.every(Number.isFinite), v.name).toBe(true);
      expect(g.some((x) => x !== 0), v.name).toBe(true);
    }
    store.dispose();
  });
});
