// Fusion 'c_gate' (TFR-Net's gated fusion encoders) and its classifier as a regression head (batch_norm, leaky_relu):
// equal to MMSA's own GATE_F (models/missingTask/TFR_NET/fusion.py, fixture by tools/make-tfr-net-fixtures.py) with its
// weights loaded by MMSA's names, padded and unpadded rows; the lengths rule (mask's first 0); gradients; inputs that
// do not pair up.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { lengthsOfMask } from '../../../../src/components/fusions/c_gate/lower.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { sequenceType, vector } from '../../../../src/components/shape-helpers.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

interface Seq {
  name: string;
  steps: number;
  hidden: number;
  x: number[];
  mask: number[];
  y: number[];
}
type State = Record<string, { shape: number[]; values: number[] }>;
const fx = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/tfr-net/c-gate.json'), 'utf8')) as { B: number; D: number; seqs: Seq[]; state: State; prediction: number[] };

describe('c_gate fusion', () => {
  it("equals MMSA's GATE_F with MMSA's weights: each C_GATE, the vectors concatenated, the classifier as the head", () => {
    const { B, D, seqs } = fx;
    const P = { type: 'c_gate', inputs: [...seqs.map((s) => s.name), ...seqs.map((s) => `${s.name}_mask`)], hidden: seqs.map((s) => s.hidden), gru_layers: 2, dropout: 0.2 };
    const n = lowerOne('fusion', P, [
      ...seqs.map((s) => [s.name, sequenceType(s.steps, D)] as [string, ReturnType<typeof vector>]),
      ...seqs.map((s) => [`${s.name}_mask`, vector(s.steps)] as [string, ReturnType<typeof vector>]),
    ]);
    // Every encoder tensor MMSA saves has a parameter of the same name and shape here, and nothing else.
    const names = Object.keys(fx.state).filter((k) => !k.startsWith('classifier.')).sort();
    expect(n.node.params.map((p) => p.name).sort()).toEqual(names);
    for (const k of names) n.store.get(`fusion.${k}`).assign(tf.tensor(fx.state[k]!.values, fx.state[k]!.shape));
    const inputs = [...seqs.map((s) => value(tf.tensor3d(s.x, [B, s.steps, D]))), ...seqs.map((s) => value(tf.tensor2d(s.mask, [B, s.steps])))];
    const y = n.lowered.apply(inputs, evalCtx()).tensor;
    const H = seqs.reduce((a, s) => a + s.hidden, 0);
    expect(y.shape).toEqual([B, H]);
    const got = y.arraySync() as number[][];
    let off = 0;
    for (const s of seqs) {
      for (let b = 0; b < B; b++) for (let j = 0; j < s.hidden; j++) expect(Math.abs(got[b]![off + j]! - s.y[b * s.hidden + j]!)).toBeLessThan(1e-5);
      off += s.hidden;
    }
    // GATE_F's classifier: BatchNorm1d (running statistics in eval), Linear, LeakyReLU, Dropout, Linear.
    const head = lowerOne('head', { type: 'regression', input: 'fusion', hidden: [8], dropout: 0.1, dropout_last: true, dropout_each: false, activation: 'leaky_relu', batch_norm: true, passthrough: false, output_range: null }, [['fusion', vector(H)]]);
    const map: Record<string, string> = { norm: 'linear_trans_norm', 'layers.0': 'linear_trans_hidden', out: 'linear_trans_final' };
    for (const p of head.node.params) {
      const [mod, ...rest] = p.name.split('.');
      const local = mod === 'layers' ? `layers.${rest.shift()!}` : mod!;
      const w = fx.state[`classifier.${map[local]!}.${rest.join('.')}`]!;
      expect(w.shape, p.name).toEqual(p.shape);
      head.store.get(`heads.n.${p.name}`).assign(tf.tensor(w.values, w.shape));
    }
    const pred = head.lowered.apply([value(y)], evalCtx()).tensor.dataSync();
    fx.prediction.forEach((v, b) => expect(Math.abs(pred[b]! - v)).toBeLessThan(1e-5));
    head.dispose();
    n.dispose();
  });

  it("runs each row to its mask's first 0, the whole row when it has none", () => {
    expect(Array.from(lengthsOfMask(tf.tensor2d([1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1], [3, 4])))).toEqual([2, 4, 1]);
  });

  it('passes gradients to every parameter', () => {
    const n = lowerOne('fusion', { type: 'c_gate', inputs: ['a', 'b', 'a_mask', 'b_mask'], hidden: [3, 2], gru_layers: 1, dropout: 0 }, [['a', sequenceType(4, 3)], ['b', sequenceType(3, 3)], ['a_mask', vector(4)], ['b_mask', vector(3)]]);
    const inputs = [value(tf.randomNormal([2, 4, 3], 0, 1, 'float32', 1)), value(tf.randomNormal([2, 3, 3], 0, 1, 'float32', 2)), value(tf.tensor2d([1, 1, 1, 0, 1, 1, 1, 1], [2, 4])), value(tf.tensor2d([1, 1, 0, 1, 0, 0], [2, 3]))];
    expect(gradError(checkParamGradient(n.lowered, n.store, inputs))).toBeLessThan(2e-2);
    n.dispose();
  });

  it('refuses unpaired inputs and a mask of the wrong length', () => {
    const def = getComponent('fusion', 'c_gate')!;
    const odd = runInfer(def, { type: 'c_gate', inputs: ['a', 'b', 'a_mask'], hidden: [3, 2], gru_layers: 1, dropout: 0 }, [['a', sequenceType(4, 3)], ['b', sequenceType(3, 3)], ['a_mask', vector(4)]], 'fusion');
    expect(odd.result).toBeUndefined();
    expect(odd.reports.map((r) => r.code)).toEqual(['MSA4004']);
    const wrong = runInfer(def, { type: 'c_gate', inputs: ['a', 'a_mask'], hidden: [3], gru_layers: 1, dropout: 0 }, [['a', sequenceType(4, 3)], ['a_mask', vector(5)]], 'fusion');
    expect(wrong.reports.map((r) => r.code)).toEqual(['MSA4004']);
  });
});
