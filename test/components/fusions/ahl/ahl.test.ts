// Fusion 'ahl' (ALMT's l_encoder, h_hyper_layer and fusion_layer): against plain-JS maths of ALMT (text encoder states
// with their positions, AHL layers reading text layer i, the cross transformer with the shared zero extra token and
// separate positions, token 0); the AHL residual on the *normalised* hyper tokens; MMSA's names; gradients; inputs
// of different shapes.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { createAhlLayer } from '../../../../src/components/fusions/ahl/nn.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx, ParamStore } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { maxAbsDiff, randn, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { ahlLayerRef, layerNormRef, vitLayersRef } from '../../almt-ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const P = { type: 'ahl', inputs: ['t', 'a', 'v'], depth: 3, text_heads: 2, text_head_dim: 4, text_mlp: 6, hyper_heads: 2, fusion_layers: 2, fusion_heads: 2, fusion_head_dim: 4, fusion_mlp: 6 };
const n0 = 3;
const d = 8;

describe('ahl fusion', () => {
  it("is ALMT's hyper-modality learning and cross transformer, token 0 out", () => {
    const B = 2;
    const n = lowerOne('fusion', P, [['t', seq(n0, d)], ['a', seq(n0, d)], ['v', seq(n0, d)]]);
    expect(n.node.params.map((p) => p.name)).toEqual(getComponent('fusion', 'ahl')!.paramNames!(P as never).map((x) => x));
    expect(n.values('h_hyper').every((x) => x === 1)).toBe(true);
    expect(n.values('fusion_layer.extra_token').every((x) => x === 0)).toBe(true);
    // Hyper tokens and the extra token away from their constant init, so that each shows in the output.
    n.store.get('fusion.h_hyper').assign(tf.tensor3d(randn(3, n0 * d), [1, n0, d]));
    n.store.get('fusion.fusion_layer.extra_token').assign(tf.tensor3d(randn(4, d), [1, 1, d]));
    const xs = [0, 1, 2].map((i) => randn(20 + i, B * n0 * d));
    const y = n.lowered.apply(xs.map((x) => value(tf.tensor3d(x, [B, n0, d]))), evalCtx()).tensor;
    expect(y.shape).toEqual([B, d]);
    const g = n.values;
    const expected = [0, 1].flatMap((b) => {
      const [t, a, v] = xs.map((x) => reshape2(x.slice(b * n0 * d, (b + 1) * n0 * d), n0, d)) as [Mat, Mat, Mat];
      const tPos = reshape2(g('l_encoder.pos_embedding'), n0, d);
      const states = vitLayersRef(t.map((r, i) => r.map((x, c) => x + tPos[i]![c]!)), undefined, g, 'l_encoder.encoder', { layers: 2, heads: 2, headDim: 4, ffn: 6 });
      let hyper = reshape2(g('h_hyper'), n0, d);
      for (let i = 0; i < 3; i++) hyper = ahlLayerRef(states[i]!, a, v, hyper, g, `h_hyper_layer.layers.${i}.0`, 2);
      const extra = g('fusion_layer.extra_token');
      const ps = reshape2(g('fusion_layer.pos_embedding_s'), n0 + 1, d);
      const pt = reshape2(g('fusion_layer.pos_embedding_t'), n0 + 1, d);
      const src = [extra, ...hyper].map((r, i) => r.map((x, c) => x + ps[i]![c]!));
      const tgt = [extra, ...states.at(-1)!].map((r, i) => r.map((x, c) => x + pt[i]![c]!));
      return vitLayersRef(tgt, src, g, 'fusion_layer.CrossTransformerEncoder', { layers: 2, heads: 2, headDim: 4, ffn: 6 }).at(-1)![0]!;
    });
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(1e-5);
    n.dispose();
  });

  it('an AHL layer adds its shift to the normalised hyper tokens (the quirk kept): with no shift it returns norm4(h_hyper)', () => {
    const store = new ParamStore({ seed: 2 });
    const layer = createAhlLayer(store, 'l', d, 2, 4);
    store.get('l.fn.to_out.0.weight').assign(tf.zeros([d, 8]));
    store.get('l.fn.to_out.0.bias').assign(tf.zeros([d]));
    const hy = randn(30, n0 * d).map((x) => 3 + 2 * x);
    const r = (s: number) => tf.tensor3d(randn(s, n0 * d), [1, n0, d]);
    const out = layer.apply(r(31), r(32), r(33), tf.tensor3d(hy, [1, n0, d]), evalCtx()).dataSync();
    const normed = reshape2(hy, n0, d).flatMap((row) => layerNormRef(row, new Array(d).fill(1), new Array(d).fill(0)));
    expect(maxAbsDiff(out, normed)).toBeLessThan(1e-5);
    // Not the raw hyper tokens, which a usual residual would return.
    expect(maxAbsDiff(out, hy)).toBeGreaterThan(1);
    store.dispose();
  });

  it('gradients match central differences', () => {
    const p = { ...P, depth: 2, fusion_layers: 1 };
    const n = lowerOne('fusion', p, [['t', seq(n0, d)], ['a', seq(n0, d)], ['v', seq(n0, d)]]);
    // The initial hyper tokens are all ones: their LayerNorm divides by sqrt(0 + eps), far too steep for central
    // differences. Rows with spread instead.
    n.store.get('fusion.h_hyper').assign(tf.tensor3d(randn(3, n0 * d), [1, n0, d]));
    const c = checkParamGradient(n.lowered, n.store, [0, 1, 2].map((i) => value(tf.tensor3d(randn(40 + i, 2 * n0 * d), [2, n0, d]))));
    expect(gradError(c)).toBeLessThan(2e-2);
    n.dispose();
  });

  it('token sequences of different shapes: MSA4004 naming the odd input', () => {
    const def = getComponent('fusion', 'ahl')!;
    const odd = runInfer(def, P, [['t', seq(n0, d)], ['a', seq(n0 + 1, d)], ['v', seq(n0, d)]], 'fusion');
    expect(odd.result).toBeUndefined();
    expect(odd.reports.map((r) => [r.code, r.span])).toEqual([['MSA4004', odd.inputs[1]!.span]]);
    const wide = runInfer(def, P, [['t', seq(n0, d)], ['a', seq(n0, d)], ['v', seq(n0, 4)]], 'fusion');
    expect(wide.reports.map((r) => r.code)).toEqual(['MSA4004']);
  });
});
