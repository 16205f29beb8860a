// Task 'recon' (MISA's reconstruction loss with its MSE module): sum of squared differences over the element count
// per pair, the mean over the pairs, gradients reaching both sides; node outputs read by reference. TFR-Net's RECLoss
// options against MMSA's own values.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { reconLoss } from '../../../../src/components/tasks/recon/lower.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { randn } from '../../../runtime/nn/ref.js';
import { batchWithLabels, lowerTaskOf, taskOf } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('recon task', () => {
  it('averages the mean squared difference of each pair; both sides get the gradient', () => {
    const pairs = [['encoders.sp:recon_text', 'encoders.sp:orig_text'], ['encoders.sp:recon_audio', 'encoders.sp:orig_audio']];
    const t = taskOf({ type: 'recon', pairs, weight: 0.8, valid_loss: false });
    t.inputs = pairs.flat();
    const task = lowerTaskOf(t);
    const [r1, o1, r2, o2] = [1, 2, 3, 4].map((s) => tf.variable(tf.tensor2d(randn(s, 3 * 2), [3, 2])));
    const nodes = Object.fromEntries(pairs.flat().map((k, i) => [k, [r1, o1, r2, o2][i]!]));
    const mse = (a: tf.Tensor, b: tf.Tensor) => Array.from(a.dataSync()).reduce((s, v, i) => s + (v - b.dataSync()[i]!) ** 2, 0) / a.size;
    const f = () => task.trainLoss({ heads: {}, features: {}, nodes }, batchWithLabels([0]), 1);
    expect(f().dataSync()[0]).toBeCloseTo((0.8 * (mse(r1!, o1!) + mse(r2!, o2!))) / 2, 6);
    const { grads } = tf.variableGrads(f, [r1!, o1!]);
    // d/dr of 0.8 * mean_pairs(sum((o - r)^2) / n) = 0.8 / 2 * 2 (r - o) / n, and the negative for o
    const want = Array.from(r1!.dataSync(), (v, i) => (0.8 / 2) * (2 * (v - o1!.dataSync()[i]!)) / 6);
    Array.from(grads[r1!.name]!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    Array.from(grads[o1!.name]!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(-want[i]!, 6));
    expect(reconLoss(r2!, o2!).dataSync()[0]).toBeCloseTo(mse(r2!, o2!), 6);
  });
});

// TFR-Net's RECLoss (models/missingTask/TFR_NET/model.py), values and gradient computed by MMSA's own code
// (tools/make-tfr-net-fixtures.py): masked to the dropped positions, SmoothL1 / MSE / SmoothL1 + 5 CMD, pair weights.
describe('recon task with TFR-Net options', () => {
  interface Fixture {
    shapes: [number, number, number][];
    weight_gen_loss: number[];
    pairs: { pred: number[]; target: number[]; mask: number[]; missing_mask: number[] }[];
    losses: Record<'SmoothL1Loss' | 'MSELoss' | 'combine', { per_pair: number[]; total: number; grad_pred0: number[] }>;
  }
  const fx = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/tfr-net/recloss.json'), 'utf8')) as Fixture;
  const names = ['text', 'audio', 'vision'];
  const pairs = names.map((m) => [`encoders.gen_${m}`, `modalities.${m}`]);
  const masks = names.map((m) => [`modalities.${m}_mask`, `modalities.${m}_missing_mask`]);
  const nodesOf = (pred0: tf.Tensor) => {
    const nodes: Record<string, tf.Tensor> = {};
    fx.pairs.forEach((p, i) => {
      const [b, t, d] = fx.shapes[i]!;
      nodes[pairs[i]![0]!] = i === 0 ? pred0 : tf.tensor3d(p.pred, [b, t, d]);
      nodes[pairs[i]![1]!] = tf.tensor3d(p.target, [b, t, d]);
      nodes[masks[i]![0]!] = tf.tensor2d(p.mask, [b, t]);
      nodes[masks[i]![1]!] = tf.tensor2d(p.missing_mask, [b, t]);
    });
    return nodes;
  };
  const settings = [
    ['SmoothL1Loss', { loss: 'smooth_l1', cmd_weight: 0 }],
    ['MSELoss', { loss: 'mse', cmd_weight: 0 }],
    ['combine', { loss: 'smooth_l1', cmd_weight: 5 }],
  ] as const;
  for (const [kind, opts] of settings) {
    it(`equals MMSA's RECLoss (${kind}), per pair and weighted, with its gradient`, () => {
      const [b, t, d] = fx.shapes[0]!;
      const pred0 = tf.variable(tf.tensor3d(fx.pairs[0]!.pred, [b, t, d]));
      const nodes = nodesOf(pred0);
      const want = fx.losses[kind];
      fx.pairs.forEach((_, i) => {
        const one = lowerTaskOf({ ...taskOf({ type: 'recon', pairs: [pairs[i]!], masks: [masks[i]!], ...opts, pair_weights: [1], from_epoch: 1 }), inputs: [...pairs[i]!, ...masks[i]!] });
        expect(one.trainLoss({ heads: {}, features: {}, nodes }, batchWithLabels([0]), 1).dataSync()[0]).toBeCloseTo(want.per_pair[i]!, 5);
      });
      const t3 = { ...taskOf({ type: 'recon', pairs, masks, ...opts, pair_weights: fx.weight_gen_loss, from_epoch: 2 }), inputs: [...pairs.flat(), ...masks.flat()] };
      const task = lowerTaskOf(t3);
      const f = () => task.trainLoss({ heads: {}, features: {}, nodes }, batchWithLabels([0]), 2);
      expect(Math.abs(f().dataSync()[0]! - want.total) / want.total).toBeLessThan(1e-6);
      const { grads } = tf.variableGrads(f, [pred0]);
      const g = Array.from(grads[pred0.name]!.dataSync());
      const scale = Math.max(...want.grad_pred0.map(Math.abs));
      g.forEach((v, i) => expect(Math.abs(v - want.grad_pred0[i]!) / scale).toBeLessThan(1e-5));
      // trains/missingTask/TFR_NET.py: the reconstruction loss joins from epoch 2 (`if epochs > 1`).
      expect(task.trainLoss({ heads: {}, features: {}, nodes }, batchWithLabels([0]), 1).dataSync()[0]).toBe(0);
    });
  }
});
