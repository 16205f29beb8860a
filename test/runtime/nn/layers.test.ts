import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import { ParamStore, evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { createBatchNorm1d, createLayerNorm, createLinear, dropout, dropoutMask } from '../../../src/runtime/nn/layers.js';
import { flat, linearRef, maxAbsDiff, randn, reshape2, reshape3 } from './ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('linear', () => {
  it('matches x W^T + b in plain JS, for 2-D and 3-D inputs', () => {
    const store = new ParamStore({ seed: 1 });
    const lin = createLinear(store, 'm.fc', 5, 3);
    expect(lin.weight.shape).toEqual([3, 5]);
    expect(store.entries().map((e) => e.key)).toEqual(['m.fc.weight', 'm.fc.bias']);
    const xs = randn(1, 4 * 5);
    const y = lin.apply(tf.tensor2d(xs, [4, 5]));
    const w = reshape2(lin.weight.dataSync(), 3, 5);
    const b = Array.from(lin.bias!.dataSync());
    const ref = linearRef(reshape2(xs, 4, 5), w, b);
    expect(maxAbsDiff(y.dataSync(), flat(ref))).toBeLessThan(1e-5);
    const y3 = lin.apply(tf.tensor3d(xs, [2, 2, 5]));
    expect(y3.shape).toEqual([2, 2, 3]);
    expect(maxAbsDiff(y3.dataSync(), flat(ref))).toBeLessThan(1e-5);
    store.dispose();
  });
});

describe('dropout', () => {
  it('is inverted, seeded, and the identity in eval mode', () => {
    const x = tf.ones([200, 50]);
    expect(dropout(x, 0.5, evalCtx())).toBe(x);
    const a = dropout(x, 0.3, trainCtx(7)).dataSync();
    const b = dropout(x, 0.3, trainCtx(7)).dataSync();
    const c = dropout(x, 0.3, trainCtx(8)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
    const zeros = Array.from(a).filter((v) => v === 0).length / a.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    for (const v of a) if (v !== 0) expect(v).toBeCloseTo(1 / 0.7, 6);
    const mean = Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    // successive calls on one ctx draw fresh masks
    const ctx = trainCtx(3);
    expect(maxAbsDiff(dropoutMask([100], 0.5, ctx).dataSync(), dropoutMask([100], 0.5, ctx).dataSync())).toBeGreaterThan(0);
  });
});

describe('batchnorm1d', () => {
  it('train: biased batch variance to normalise, unbiased for running stats (momentum 0.1); eval uses running stats', () => {
    const store = new ParamStore({ seed: 2 });
    const bn = createBatchNorm1d(store, 'norm', 3);
    expect(store.select({ buffers: true }).filter((e) => e.buffer).map((e) => e.name)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(store.trainableVariables()).toHaveLength(2);
    bn.weight.assign(tf.tensor1d([1.5, 0.5, 2]));
    bn.bias.assign(tf.tensor1d([0.1, -0.2, 0.3]));
    const B = 5;
    const xs = randn(3, B * 3).map((v, i) => v * (1 + (i % 3)) + (i % 3));
    const x = reshape2(xs, B, 3);
    const y = bn.apply(tf.tensor2d(xs, [B, 3]), trainCtx(0)).dataSync();
    const w = [1.5, 0.5, 2];
    const bb = [0.1, -0.2, 0.3];
    const rm: number[] = [];
    const rv: number[] = [];
    for (let c = 0; c < 3; c++) {
      const col = x.map((r) => r[c]!);
      const mu = col.reduce((s, v) => s + v, 0) / B;
      const ss = col.reduce((s, v) => s + (v - mu) ** 2, 0);
      const varB = ss / B;
      for (let b = 0; b < B; b++) expect(Math.abs(y[b * 3 + c]! - ((col[b]! - mu) / Math.sqrt(varB + 1e-5)) * w[c]! - bb[c]!)).toBeLessThan(1e-5);
      rm.push(0.1 * mu);
      rv.push(0.9 + 0.1 * (ss / (B - 1)));
    }
    expect(maxAbsDiff(bn.runningMean.dataSync(), rm)).toBeLessThan(1e-6);
    expect(maxAbsDiff(bn.runningVar.dataSync(), rv)).toBeLessThan(1e-6);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    const ye = bn.apply(tf.tensor2d(xs, [B, 3]), evalCtx()).dataSync();
    for (let b = 0; b < B; b++) for (let c = 0; c < 3; c++) {
      expect(Math.abs(ye[b * 3 + c]! - ((x[b]![c]! - rm[c]!) / Math.sqrt(rv[c]! + 1e-5)) * w[c]! - bb[c]!)).toBeLessThan(1e-5);
    }
    store.dispose();
  });

  it("EF_LSTM variant: BatchNorm1d(L) on B x L x D normalises each time step over batch and features", () => {
    const store = new ParamStore({ seed: 3 });
    const L = 4, B = 3, D = 5;
    const bn = createBatchNorm1d(store, 'norm', L);
    const xs = randn(4, B * L * D);
    const x = reshape3(xs, B, L, D);
    const y = reshape3(bn.apply(tf.tensor3d(xs, [B, L, D]), trainCtx(0)).dataSync(), B, L, D);
    for (let l = 0; l < L; l++) {
      const vals = x.flatMap((bm) => bm[l]!);
      const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
      const v = vals.reduce((s, q) => s + (q - mu) ** 2, 0) / vals.length;
      for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) {
        expect(Math.abs(y[b]![l]![d]! - (x[b]![l]![d]! - mu) / Math.sqrt(v + 1e-5))).toBeLessThan(1e-5);
      }
    }
    store.dispose();
  });
});

describe('layernorm', () => {
  it('normalises the last axis with a configurable eps', () => {
    const store = new ParamStore({ seed: 4 });
    const ln = createLayerNorm(store, 'ln', 6, { eps: 1e-12 });
    ln.weight.assign(tf.tensor1d([1, 2, 3, 4, 5, 6]));
    ln.bias.assign(tf.tensor1d([0, 0.1, 0.2, 0.3, 0.4, 0.5]));
    const xs = randn(5, 12);
    const y = ln.apply(tf.tensor2d(xs, [2, 6])).dataSync();
    reshape2(xs, 2, 6).forEach((row, r) => {
      const mu = row.reduce((s, v) => s + v, 0) / 6;
      const v = row.reduce((s, q) => s + (q - mu) ** 2, 0) / 6;
      row.forEach((q, i) => expect(Math.abs(y[r * 6 + i]! - (((q - mu) / Math.sqrt(v + 1e-12)) * (i + 1) + i * 0.1))).toBeLessThan(1e-5));
    });
    store.dispose();
  });
});
