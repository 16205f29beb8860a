// Encoder 'misa_lstm' (MISA's extract_features): against a plain-JS LSTM with packed semantics, the lengths read from
// the BERT mask's counts (MMSA's quirk), LayerNorm between the two bidirectional LSTMs, the output order
// [h1 fwd, h2 fwd, h1 bwd, h2 bwd]; lengths outside 1..T are refused; MMSA's parameter names.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { tokenCounts } from '../../../../src/components/encoders/misa_lstm/lower.js';
import { lstmRef, maxAbsDiff, randn, reshape2, reshape3, type Mat } from '../../../runtime/nn/ref.js';
import { lowerOne, seq, tokens, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const P = { type: 'misa_lstm', hidden: 3, lengths_from: 'modalities.text' };

function layerNormRef(m: Mat[], w: number[], b: number[]): Mat[] {
  return m.map((rows) =>
    rows.map((r) => {
      const mean = r.reduce((s, v) => s + v, 0) / r.length;
      const v = r.reduce((s, x) => s + (x - mean) ** 2, 0) / r.length;
      return r.map((x, i) => ((x - mean) / Math.sqrt(v + 1e-5)) * w[i]! + b[i]!);
    }),
  );
}

describe('misa_lstm encoder', () => {
  it('packs by the text token counts, normalises between two bidirectional LSTMs, returns the four final states', () => {
    const B = 3, T = 5, D = 4, H = 3, L = 6;
    const n = lowerOne('encoder', P, [['vision', seq(T, D)], ['text', tokens(L)]]);
    expect(n.node.params.map((p) => p.name)).toEqual(getComponent('encoder', 'misa_lstm')!.paramNames!(P as never));
    expect(n.node.output.shape).toEqual(['B', 4 * H]);
    const x = randn(3, B * T * D);
    // mask rows with 2, 5 and 4 real tokens: those are the packing lengths, whatever the vision frames hold
    const lens = [2, 5, 4];
    const tok: number[] = [];
    lens.forEach((len) => {
      for (let i = 0; i < L; i++) tok.push(i < len ? 100 + i : 0);
      for (let i = 0; i < L; i++) tok.push(i < len ? 1 : 0);
      for (let i = 0; i < L; i++) tok.push(0);
    });
    const v = n.lowered.apply([value(tf.tensor3d(x, [B, T, D])), value(tf.tensor3d(tok, [B, 3, L], 'int32'))], evalCtx());
    const W = (k: string, r: number, c: number) => reshape2(n.values(k), r, c);
    const dir = (name: string, input: Mat[], inSize: number, rev: boolean) => {
      const s = rev ? '_reverse' : '';
      return lstmRef(input, W(`${name}.weight_ih_l0${s}`, 4 * H, inSize), W(`${name}.weight_hh_l0${s}`, 4 * H, H), n.values(`${name}.bias_ih_l0${s}`), n.values(`${name}.bias_hh_l0${s}`), lens, rev);
    };
    const xs = reshape3(x, B, T, D);
    const f1 = dir('rnn1', xs, D, false), b1 = dir('rnn1', xs, D, true);
    const cat = f1.out.map((rows, b) => rows.map((r, t) => [...r, ...b1.out[b]![t]!]));
    const normed = layerNormRef(cat, n.values('layer_norm.weight'), n.values('layer_norm.bias'));
    const f2 = dir('rnn2', normed, 2 * H, false), b2 = dir('rnn2', normed, 2 * H, true);
    const expected = lens.flatMap((_, b) => [...f1.h[b]!, ...f2.h[b]!, ...b1.h[b]!, ...b2.h[b]!]);
    expect(maxAbsDiff(v.tensor.dataSync(), expected)).toBeLessThan(1e-5);
    n.dispose();
  });

  it('counts tokens as MMSA does (the float mask summed, truncated to an integer)', () => {
    const t = tf.tensor3d([5, 6, 0, 1, 1, 0, 0, 0, 0, 7, 8, 9, 1, 1, 1, 0, 0, 0], [2, 3, 3], 'int32');
    expect(Array.from(tokenCounts(t))).toEqual([2, 3]);
  });

  it('refuses a length beyond the sequence (MSA6701) with the row and the steps', () => {
    const n = lowerOne('encoder', P, [['audio', seq(2, 4)], ['text', tokens(3)]]);
    const tok = tf.tensor3d([1, 2, 3, 1, 1, 1, 0, 0, 0], [1, 3, 3], 'int32');
    expect(() => n.lowered.apply([value(tf.zeros([1, 2, 4])), value(tok)], evalCtx())).toThrow(/row 0 of the batch by length 3, but 'audio' has 2 steps/);
    n.dispose();
  });

  it('without lengths_from packs by the modality lengths and reads only its modality', () => {
    const def = getComponent('encoder', 'misa_lstm')!;
    expect(def.reads!({ type: 'misa_lstm', hidden: null, lengths_from: null } as never, 'audio')).toBeUndefined();
    expect(def.reads!(P as never, 'audio')).toEqual([{ name: 'modalities.audio', path: [] }, { name: 'modalities.text', path: ['lengths_from'] }]);
    const n = lowerOne('encoder', { type: 'misa_lstm', hidden: null, lengths_from: null }, [['audio', seq(4, 2, { lengths: 'audio_lengths' })]]);
    expect(n.node.output.shape).toEqual(['B', 8]);
    const out = n.lowered.apply([value(tf.tensor3d(randn(4, 2 * 4 * 2), [2, 4, 2]), [1, 4])], evalCtx());
    expect(out.tensor.shape).toEqual([2, 8]);
    n.dispose();
  });
});

describe('misa_lstm gradients', () => {
  it('match central differences (every parameter, packed by token counts)', async () => {
    const { checkParamGradient, gradError } = await import('../../grad-check.js');
    const n = lowerOne('encoder', P, [['vision', seq(4, 3)], ['text', tokens(4)]]);
    const tok = tf.tensor3d([1, 2, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0], [2, 3, 4], 'int32');
    const c = checkParamGradient(n.lowered, n.store, [value(tf.tensor3d(randn(9, 24), [2, 4, 3])), value(tok)]);
    expect(gradError(c)).toBeLessThan(2e-2);
    n.dispose();
  });
});
