import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { lastStep, poolToVector } from '../../../src/runtime/nn/pool.js';
import { disposeGrads } from '../../../src/runtime/train/optim/adam.js';
import { batchOf, compileYaml, randomSplit, TINY } from './helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const MISC = `version: 1
extends: mmsa_defaults
${TINY('mosi')}
modalities:
  text: {feature: text}
  audio: {feature: audio, lengths: audio_lengths}
  vision: {feature: vision, lengths: vision_lengths}
encoders:
  text: {type: mlp, hidden: [5], out: 4, pool: first, activation: gelu, dropout: 0.1}
  audio: {type: gru, hidden: 4, out: 4, layers: 2, dropout: 0.1, bidirectional: true}
  vision: {type: lstm, hidden: 4, layers: 2, bidirectional: true, packed: false}
fusion: {type: late, inputs: [text, audio, vision], combine: concat}
heads:
  M: {type: regression, input: fusion, hidden: [4], activation: tanh, dropout: 0.2, dropout_each: true}
  P: {type: regression, input: audio, hidden: []}
tasks:
  main: {type: mse, head: M, target: M}
  aux: {type: l1, head: P, target: M, weight: 0.5, valid_loss: false}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: all, params: ['*'], lr: 1.0e-3, weight_decay: 0}
`;

describe('gru, mlp, bidirectional lstm, late fusion, linear head (wasm backend)', () => {
  it('lowers to the IR names, runs, and trains every variable', () => {
    const ir = compileYaml(MISC, 'misc');
    const p = lowerPipeline(ir, { seed: 1, trainSize: 8 });
    const declared = ir.nodes.flatMap((n) => n.params.map((d) => `${n.id}.${d.name}`)).sort();
    expect(p.model.store.entries().map((e) => e.key).sort()).toEqual(declared);
    expect(declared).toContain('encoders.audio.gru.weight_hh_l1_reverse');
    expect(p.tasks.map((t) => [t.name, t.evalLoss !== undefined])).toEqual([['main', true], ['aux', false]]);
    const split = randomSplit(ir, 8, 4);
    // An odd batch: L1's sign terms cannot cancel a bias gradient to exactly 0.
    const batch = batchOf(split, [0, 1, 2, 3, 4]);
    const vars = p.optimizer.variables();
    const { value, grads } = tf.variableGrads(() => {
      const out = p.model.forward(batch, trainCtx(3));
      expect(out.heads['M']!.shape).toEqual([5, 1]);
      expect(out.heads['P']!.shape).toEqual([5, 1]);
      expect(out.features['P']).toBeUndefined();
      return tf.addN(p.tasks.map((t) => t.trainLoss(out, batch, 1))) as tf.Scalar;
    }, vars);
    for (const v of vars) {
      const g = Array.from(grads[v.name]!.dataSync());
      const key = p.model.store.byVariableName(v.name)!.key;
      expect(g.every(Number.isFinite), key).toBe(true);
      expect(g.some((x) => x !== 0), key).toBe(true);
    }
    value.dispose();
    disposeGrads(grads);
    // Unpacked vision: padding frames do change the result (contrast with the packed encoders).
    const y0 = tf.tidy(() => Array.from(p.model.forward(batch, evalCtx()).heads['M']!.dataSync()));
    const v = batch.features['vision']!;
    v.data[v.data.length - 1] = 50;
    const y1 = tf.tidy(() => Array.from(p.model.forward(batch, evalCtx()).heads['M']!.dataSync()));
    expect(y1).not.toEqual(y0);
    p.model.dispose();
  });
});

describe('pooling', () => {
  it('last takes the last valid step by lengths, cls the first row, mean the padded mean', () => {
    const x = tf.tensor3d([[[1, 1], [2, 2], [3, 3]], [[4, 4], [5, 5], [6, 6]]]);
    expect(lastStep(x, Int32Array.from([2, 3])).arraySync()).toEqual([[2, 2], [6, 6]]);
    expect(lastStep(x).arraySync()).toEqual([[3, 3], [6, 6]]);
    expect(poolToVector(x, 'cls').arraySync()).toEqual([[1, 1], [4, 4]]);
    expect(poolToVector(x, 'mean').arraySync()).toEqual([[2, 2], [5, 5]]);
    const v = tf.tensor2d([[1, 2]]);
    expect(poolToVector(v, 'last')).toBe(v);
  });
});
