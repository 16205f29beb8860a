// Fusion 'cyclic_translation' (MCTN): over time each sample is its own; along the batch axis (MMSA's behaviour) the
// same weights make a sample depend on the others; the translation loss trains the decoders but not their hidden
// weights (a zero state every step). Parity with MMSA's own modules in both modes: test/cli/import-commands.test.ts.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { lowerOne, seq, value, type OneNode } from '../../helpers.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { getComponent } from '../../../../src/components/catalog.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const P = { type: 'cyclic_translation', inputs: ['text', 'vision', 'audio'], hidden: 4, max_seq_len: 5, batch_as_time: false };
const INPUTS: Array<[string, ReturnType<typeof seq>]> = [['text', seq(6, 7, { aligned: true })], ['vision', seq(6, 3, { aligned: true })], ['audio', seq(6, 2, { aligned: true })]];
let open: OneNode[] = [];
afterEach(() => {
  open.forEach((o) => o.dispose());
  open = [];
});

function lowered(params: Record<string, unknown>): OneNode {
  const o = lowerOne('fusion', { ...P, ...params }, INPUTS, 3);
  open.push(o);
  return o;
}

function batch(B: number, seed: number): tf.Tensor3D[] {
  return [7, 3, 2].map((d, i) => tf.randomNormal([B, 6, d], 0, 1, 'float32', seed + i) as tf.Tensor3D);
}

describe('cyclic_translation fusion', () => {
  it('pads to the widest input, cuts to max_seq_len, outputs the joint sequence and the translation loss', () => {
    const o = lowered({});
    expect(o.node.output.shape).toEqual(['B', 5, 4]);
    expect(o.node.params.find((p) => p.name === 'decoder1.fc_out.weight')!.shape).toEqual([7, 8]);
    const r = o.lowered.apply(batch(3, 1).map((t) => value(t)), evalCtx());
    expect(r.tensor.shape).toEqual([3, 5, 4]);
    const loss = r.outputs!['translation_loss']!.dataSync()[0]!;
    expect(Number.isFinite(loss) && loss > 0).toBe(true);
  });

  it('over time a sample does not see the others; along the batch axis (MMSA) it does', () => {
    const [a, b] = [batch(3, 1), batch(3, 9)];
    // Same first sample, different others.
    const mixed = a.map((t, i) => tf.concat([tf.slice(t, [0, 0, 0], [1, 6, t.shape[2]]), tf.slice(b[i]!, [1, 0, 0], [2, 6, t.shape[2]])], 0) as tf.Tensor3D);
    const first = (o: OneNode, xs: tf.Tensor3D[]) => Array.from(tf.slice(o.lowered.apply(xs.map((t) => value(t)), evalCtx()).tensor, [0, 0, 0], [1, 5, 4]).dataSync());
    const paper = lowered({});
    const pa = first(paper, a), pm = first(paper, mixed);
    expect(Math.max(...pa.map((v, i) => Math.abs(v - pm[i]!)))).toBeLessThan(1e-6);
    const mmsa = lowered({ batch_as_time: true });
    const ma = first(mmsa, a), mm = first(mmsa, mixed);
    expect(Math.max(...ma.map((v, i) => Math.abs(v - mm[i]!)))).toBeGreaterThan(1e-4);
  });

  it('the translation loss reaches both seq2seq modules; the decoders\' hidden weights only meet a zero state', () => {
    const o = lowered({});
    const xs = batch(2, 4);
    const vars = o.store.trainableVariables();
    const { grads } = tf.variableGrads(() => o.lowered.apply(xs.map((t) => value(t)), evalCtx()).outputs!['translation_loss']!.sum() as tf.Scalar, vars);
    const norm = (k: string) => tf.norm(grads[o.store.get(`fusion.${k}`).name]!).dataSync()[0]!;
    for (const k of ['encoder1.rnn.weight_ih_l0', 'decoder1.fc_out.weight', 'decoder1.attention.attn.weight', 'encoder2.fc.weight', 'decoder2.rnn.weight_ih_l0_reverse']) expect(norm(k), k).toBeGreaterThan(0);
    expect(norm('decoder1.rnn.weight_hh_l0')).toBe(0);
  });

  it('refuses a pad_to narrower than an input', () => {
    const { reports } = runInfer(getComponent('fusion', 'cyclic_translation')!, { ...P, pad_to: 5 }, INPUTS, 'fusion');
    expect(reports.map((r) => r.code)).toContain('MSA4004');
  });
});
