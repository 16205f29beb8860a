// Fusion 'transformer' (PyTorch's nn.TransformerEncoder over the inputs as positions, MISA's fusion): against a
// plain-JS post-norm layer (packed q/k/v projection, per-head softmax, ReLU feed-forward, LayerNorm eps 1e-5), the
// output concatenating every position in input order; PyTorch's state_dict names; gradients; sizes that cannot work.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { linearRef, maxAbsDiff, randn, reshape2, type Mat } from '../../../runtime/nn/ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const P = { type: 'transformer', inputs: ['a', 'b', 'c'], heads: 2, layers: 1, ffn: 6, dropout: 0.1 };

function layerNorm(r: number[], w: number[], b: number[]): number[] {
  const m = r.reduce((s, v) => s + v, 0) / r.length;
  const v = r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length;
  return r.map((x, i) => ((x - m) / Math.sqrt(v + 1e-5)) * w[i]! + b[i]!);
}

/** One sample's sequence [T][d] through one post-norm layer. */
function layerRef(x: Mat, g: (k: string) => number[], d: number, heads: number, ffn: number): Mat {
  const l = 'layers.0';
  const qkv = linearRef(x, reshape2(g(`${l}.self_attn.in_proj_weight`), 3 * d, d), g(`${l}.self_attn.in_proj_bias`));
  const dh = d / heads;
  const att: Mat = x.map(() => new Array(d).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < x.length; i++) {
      const s = x.map((_, j) => {
        let dot = 0;
        for (let k = 0; k < dh; k++) dot += qkv[i]![h * dh + k]! * qkv[j]![d + h * dh + k]!;
        return dot / Math.sqrt(dh);
      });
      const mx = Math.max(...s);
      const e = s.map((v) => Math.exp(v - mx));
      const z = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < dh; k++) att[i]![h * dh + k] = e.reduce((acc, w, j) => acc + (w / z) * qkv[j]![2 * d + h * dh + k]!, 0);
    }
  }
  const o = linearRef(att, reshape2(g(`${l}.self_attn.out_proj.weight`), d, d), g(`${l}.self_attn.out_proj.bias`));
  const x1 = x.map((r, i) => layerNorm(r.map((v, k) => v + o[i]![k]!), g(`${l}.norm1.weight`), g(`${l}.norm1.bias`)));
  const h1 = linearRef(x1, reshape2(g(`${l}.linear1.weight`), ffn, d), g(`${l}.linear1.bias`)).map((r) => r.map((v) => Math.max(0, v)));
  const f = linearRef(h1, reshape2(g(`${l}.linear2.weight`), d, ffn), g(`${l}.linear2.bias`));
  return x1.map((r, i) => layerNorm(r.map((v, k) => v + f[i]![k]!), g(`${l}.norm2.weight`), g(`${l}.norm2.bias`)));
}

describe('transformer fusion', () => {
  it('is a post-norm PyTorch encoder layer over the inputs as positions, every position concatenated', () => {
    const d = 4, B = 2;
    const n = lowerOne('fusion', P, [['a', vec(d)], ['b', vec(d)], ['c', vec(d)]]);
    expect(n.node.params.map((p) => p.name)).toEqual([
      'layers.0.self_attn.in_proj_weight', 'layers.0.self_attn.in_proj_bias', 'layers.0.self_attn.out_proj.weight', 'layers.0.self_attn.out_proj.bias',
      'layers.0.linear1.weight', 'layers.0.linear1.bias', 'layers.0.linear2.weight', 'layers.0.linear2.bias',
      'layers.0.norm1.weight', 'layers.0.norm1.bias', 'layers.0.norm2.weight', 'layers.0.norm2.bias',
    ]);
    expect(n.node.params.map((p) => p.name)).toEqual(getComponent('fusion', 'transformer')!.paramNames!(P as never));
    // LayerNorm weights away from 1 so that a swapped norm shows
    n.store.get('fusion.layers.0.norm1.weight').assign(tf.tensor1d(randn(20, d)));
    const xs = [0, 1, 2].map((i) => randn(10 + i, B * d));
    const v = n.lowered.apply(xs.map((x) => value(tf.tensor2d(x, [B, d]))), evalCtx());
    expect(v.tensor.shape).toEqual([B, 3 * d]);
    const expected = [0, 1].flatMap((b) => layerRef(xs.map((x) => x.slice(b * d, (b + 1) * d)), n.values, d, 2, 6).flat());
    expect(maxAbsDiff(v.tensor.dataSync(), expected)).toBeLessThan(1e-5);
    n.dispose();
  });

  it('gradients match central differences', () => {
    const n = lowerOne('fusion', P, [['a', vec(4)], ['b', vec(4)], ['c', vec(4)]]);
    const c = checkParamGradient(n.lowered, n.store, [0, 1, 2].map((i) => value(tf.tensor2d(randn(30 + i, 12), [3, 4]))));
    expect(gradError(c)).toBeLessThan(2e-2);
    n.dispose();
  });

  it('positions of different sizes, or heads not dividing the size: MSA4004', () => {
    const def = getComponent('fusion', 'transformer')!;
    const odd = runInfer(def, P, [['a', vec(4)], ['b', vec(6)], ['c', vec(4)]], 'fusion');
    expect(odd.result).toBeUndefined();
    expect(odd.reports.map((r) => [r.code, r.span])).toEqual([['MSA4004', odd.inputs[1]!.span]]);
    const heads = runInfer(def, { ...P, heads: 3 }, [['a', vec(4)], ['b', vec(4)], ['c', vec(4)]], 'fusion');
    expect(heads.reports.map((r) => r.code)).toEqual(['MSA4004']);
  });
});
