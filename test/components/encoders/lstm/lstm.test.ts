// Encoder 'lstm' (Self-MM's AuViSubNet): packing by true lengths, h_n of the last layer, Dropout + Linear, against a
// plain-JS LSTM; its phase-3 default packs when the modality has lengths.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import type { Modality } from '../../../../src/compiler/spec/types.generated.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { flat, linearRef, lstmRef, maxAbsDiff, randn, reshape2, reshape3 } from '../../../runtime/nn/ref.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const PARAMS = { type: 'lstm', hidden: 4, layers: 1, dropout: 0, bidirectional: false, packed: true, out: 2 };

describe('lstm encoder', () => {
  it('runs the packed sequence and projects the last layer h_n (names lstm.*, linear.*)', () => {
    const n = lowerOne('encoder', PARAMS, [['audio', seq(6, 3, { lengths: 'audio_lengths' })]]);
    expect(n.node.params.map((p) => p.name)).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'linear.weight', 'linear.bias']);
    const B = 3, T = 6, lens = [6, 1, 4];
    const xs = randn(3, B * T * 3);
    const y = n.lowered.apply([value(tf.tensor3d(xs, [B, T, 3]), lens)], evalCtx()).tensor;
    const m = (k: string, r: number, c: number) => reshape2(n.values(k), r, c);
    const r = lstmRef(reshape3(xs, B, T, 3), m('lstm.weight_ih_l0', 16, 3), m('lstm.weight_hh_l0', 16, 4), n.values('lstm.bias_ih_l0'), n.values('lstm.bias_hh_l0'), lens);
    expect(maxAbsDiff(y.dataSync(), flat(linearRef(r.h, m('linear.weight', 2, 4), n.values('linear.bias'))))).toBeLessThan(1e-5);
    n.dispose();
  });

  it('packs by default when the modality has lengths and keeps its time axis', () => {
    const def = getComponent('encoder', 'lstm')!;
    const mod = (extra: Partial<Modality>): Modality => ({ feature: 'audio', lengths: 'audio_lengths', align: 'none', preprocess: { time_mean: false, seq_len: null, clamp_lengths: true }, ...extra }) as Modality;
    expect(def.defaults!(PARAMS, { modality: mod({}), dataset: undefined })).toEqual({ packed: true });
    expect(def.defaults!(PARAMS, { modality: mod({ lengths: null }), dataset: undefined })).toEqual({ packed: false });
    expect(def.defaults!(PARAMS, { modality: mod({ align: 'avg_pool' }), dataset: undefined })).toEqual({ packed: false });
    expect(def.packsLengths!({ ...PARAMS, packed: true })).toBe(true);
    expect(def.packsLengths!({ ...PARAMS, packed: false })).toBe(false);
  });
});
