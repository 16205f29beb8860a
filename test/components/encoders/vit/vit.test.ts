// Encoder 'vit' (ALMT's embedding_l/a/v): against plain-JS maths of ALMT's Linear + Transformer (zero extra tokens
// prepended, learned positions, pre-norm layers with separate q/k/v LayerNorms and a GELU MLP), the first `keep`
// positions; MMSA's parameter names; gradients; the diagnostics of lengths the positions do not cover.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { mapMmsaNames } from '../../../../src/compiler/ir/mmsa-names.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { linearRef, maxAbsDiff, randn, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { vitLayersRef } from '../../almt-ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const P = { type: 'vit', out: 8, tokens: 3, length: 6, layers: 2, heads: 2, head_dim: 4, mlp: 10, keep: 4, project: true };

describe('vit encoder', () => {
  it("is ALMT's Linear + Transformer with extra tokens and positions, keeping the first positions", () => {
    const B = 2, T = 5, D = 3, d = 8;
    const n = lowerOne('encoder', P, [['audio', seq(T, D)]]);
    expect(n.node.params.map((p) => p.name)).toEqual(getComponent('encoder', 'vit')!.paramNames!(P as never));
    expect(n.node.params.find((p) => p.name === 'pos_embedding')!.shape).toEqual([1, 6 + 3, d]);
    // The extra tokens start at zero (torch.zeros); give them values so that a wrong concatenation order shows.
    expect(n.values('extra_token').every((x) => x === 0)).toBe(true);
    n.store.get('encoders.n.extra_token').assign(tf.tensor3d(randn(5, 3 * d), [1, 3, d]));
    n.store.get('encoders.n.encoder.layers.0.0.norm_k.weight').assign(tf.tensor1d(randn(6, d)));
    const x = randn(7, B * T * D);
    const y = n.lowered.apply([value(tf.tensor3d(x, [B, T, D]))], evalCtx()).tensor;
    expect(y.shape).toEqual([B, 4, d]);
    const pos = reshape2(n.values('pos_embedding'), 9, d);
    const extra = reshape2(n.values('extra_token'), 3, d);
    const expected = [0, 1].flatMap((b) => {
      const xb = reshape2(x.slice(b * T * D, (b + 1) * T * D), T, D);
      const h = linearRef(xb, reshape2(n.values('proj.weight'), d, D), n.values('proj.bias'));
      const withTokens: Mat = [...extra, ...h].map((r, t) => r.map((v, c) => v + pos[t]![c]!));
      return vitLayersRef(withTokens, undefined, n.values, 'encoder', { layers: 2, heads: 2, headDim: 4, ffn: 10 }).at(-1)!.slice(0, 4).flat();
    });
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(1e-5);
    n.dispose();
  });

  it('one head as wide as the tokens has no output Linear (ALMT: project_out false)', () => {
    const p = { ...P, heads: 1, head_dim: 8 };
    const n = lowerOne('encoder', p, [['audio', seq(4, 3)]]);
    expect(n.node.params.some((q) => q.name.includes('to_out'))).toBe(false);
    const n2 = lowerOne('encoder', { ...P, heads: 1, head_dim: 4 }, [['audio', seq(4, 3)]]);
    expect(n2.node.params.some((q) => q.name.includes('to_out'))).toBe(true);
    n.dispose();
    n2.dispose();
  });

  it("MMSA's names: the Linear and the Transformer are items 0 and 1 of embedding_a", () => {
    const n = lowerOne('encoder', P, [['audio', seq(5, 3)]]);
    const ir = { nodes: [n.node] } as never;
    const names = mapMmsaNames(ir, { 'encoders.n': 'Model.embedding_a' }).names.map((x) => x.mmsa);
    expect(names).toContain('Model.embedding_a.0.weight');
    expect(names).toContain('Model.embedding_a.1.pos_embedding');
    expect(names).toContain('Model.embedding_a.1.extra_token');
    expect(names).toContain('Model.embedding_a.1.encoder.layers.1.1.fn.net.3.bias');
    n.dispose();
  });

  it('gradients match central differences', () => {
    const n = lowerOne('encoder', { ...P, layers: 1 }, [['audio', seq(4, 3)]]);
    const c = checkParamGradient(n.lowered, n.store, value(tf.tensor3d(randn(9, 2 * 4 * 3), [2, 4, 3])));
    expect(gradError(c)).toBeLessThan(2e-2);
    n.dispose();
  });

  it('an input longer than the positions, keep beyond the sequence, a width without projection: MSA4004', () => {
    const def = getComponent('encoder', 'vit')!;
    const long = runInfer(def, P, [['audio', seq(7, 3)]], 'encoders.audio');
    expect(long.result).toBeUndefined();
    expect(long.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(long.reports[0]!.extras?.hint).toContain('length: 7');
    const keep = runInfer(def, { ...P, keep: 20 }, [['audio', seq(5, 3)]], 'encoders.audio');
    expect(keep.reports.map((r) => r.code)).toEqual(['MSA4004']);
    const wide = runInfer(def, { ...P, project: false }, [['audio', seq(5, 3)]], 'encoders.audio');
    expect(wide.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(wide.reports[0]!.extras?.hint).toContain('project: true');
    // Without length the input's own length sizes the positions.
    const own = runInfer(def, { ...P, length: undefined }, [['audio', seq(5, 3)]], 'encoders.audio');
    expect(own.result?.params.find((p) => p.name === 'pos_embedding')?.shape).toEqual([1, 8, 8]);
  });
});
