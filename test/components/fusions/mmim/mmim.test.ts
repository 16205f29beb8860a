// Fusion 'mmim' (MMSA's models/singleTask/MMIM.py): f, lld, NCE and the entropy projections against plain float64
// JS over the stored weights, NCE and lld against hand-computed values, and their gradients against central
// differences.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpcNce, gaussianLld } from '../../../../src/components/fusions/mmim/nn.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { randn, reshape2, storeLinear, type Mat } from '../../../runtime/nn/ref.js';
import { expectCentralDifferences, lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const tanhM = (m: Mat): Mat => m.map((r) => r.map(Math.tanh));
const reluM = (m: Mat): Mat => m.map((r) => r.map((v) => Math.max(0, v)));

function lldRef(mu: Mat, logvar: Mat, y: Mat): number {
  return mu.reduce((s, r, i) => s + r.reduce((t, m, j) => t - (m - y[i]![j]!) ** 2 / (2 * Math.exp(logvar[i]![j]!)), 0), 0) / mu.length;
}

function nceRef(x: Mat, xp: Mat): number {
  const unit = (m: Mat) => m.map((r) => {
    const n = Math.hypot(...r);
    return r.map((v) => v / n);
  });
  const a = unit(x), b = unit(xp);
  const dot = (u: number[], v: number[]) => u.reduce((s, q, k) => s + q * v[k]!, 0);
  let total = 0;
  a.forEach((r, i) => {
    const scores = b.map((c) => dot(r, c));
    const m = Math.max(...scores);
    total += scores[i]! - (m + Math.log(scores.reduce((s, v) => s + Math.exp(v - m), 0)));
  });
  return -total / a.length;
}

describe('mmim fusion', () => {
  it('NCE and lld equal hand-computed values', () => {
    // Unit rows e1, e2 predicted exactly: pos = 1, logsumexp([1, 0]) = log(1 + e) per row.
    const nce = cpcNce(tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[2, 0], [0, 3]])).dataSync()[0]!;
    expect(nce).toBeCloseTo(Math.log(1 + Math.E) - 1, 6);
    // Rows: -(1-0)^2/(2 e^0) - (0-2)^2/(2 e^{ln 2}) = -0.5 - 1 = -1.5, and -(3-1)^2/(2 e^0) + 0 = -2 -> mean -1.75.
    const lld = gaussianLld(tf.tensor2d([[1, 0], [3, 5]]), tf.tensor2d([[0, Math.log(2)], [0, 0]]), tf.tensor2d([[0, 2], [1, 5]]));
    expect(lld.dataSync()[0]).toBeCloseTo(-1.75, 6);
  });

  it('computes f, lld, NCE and the entropy projections of MMSA\'s formulas', () => {
    const B = 5;
    const one = lowerOne('fusion', { type: 'mmim', inputs: ['text', 'audio', 'vision'], hidden: 6, dropout: 0.1, add_va: false }, [['text', vec(10)], ['audio', vec(8)], ['vision', vec(4)]]);
    const xs = [[10, 1], [8, 2], [4, 3]].map(([d, s]) => randn(s!, B * d!));
    const out = one.lowered.apply(xs.map((x, i) => value(tf.tensor2d(x, [B, [10, 8, 4][i]!]))), evalCtx());
    const [t, a, v] = xs.map((x, i) => reshape2(x, B, [10, 8, 4][i]!)) as [Mat, Mat, Mat];
    const S = one.store;
    const f = tanhM(storeLinear(S, 'fusion.fusion_prj.linear_2', tanhM(storeLinear(S, 'fusion.fusion_prj.linear_1', t.map((r, i) => [...r, ...a[i]!, ...v[i]!])))));
    expect(Array.from(out.tensor.dataSync())).toEqual(f.flat().map((x) => expect.closeTo(x, 5)));
    const mlp = (p: string, x: Mat) => storeLinear(S, `${p}.2`, reluM(storeLinear(S, `${p}.0`, x)));
    const lld = lldRef(mlp('fusion.mi_tv.mlp_mu', t), mlp('fusion.mi_tv.mlp_logvar', t), v) + lldRef(mlp('fusion.mi_ta.mlp_mu', t), mlp('fusion.mi_ta.mlp_logvar', t), a);
    expect(out.outputs!.lld!.dataSync()[0]).toBeCloseTo(lld, 4);
    const nce = nceRef(t, storeLinear(S, 'fusion.cpc_zt.net', f)) + nceRef(v, storeLinear(S, 'fusion.cpc_zv.net', f)) + nceRef(a, storeLinear(S, 'fusion.cpc_za.net', f));
    expect(out.outputs!.nce!.dataSync()[0]).toBeCloseTo(nce, 5);
    expect(out.outputs!.entropy_ta!.shape).toEqual([B, 2]);
    expect(Array.from(out.outputs!.entropy_tv!.dataSync())).toEqual(tanhM(storeLinear(S, 'fusion.mi_tv.entropy_prj.0', v)).flat().map((x) => expect.closeTo(x, 5)));
    expect(Object.keys(out.outputs!).sort()).toEqual(['entropy_ta', 'entropy_tv', 'lld', 'nce']);
    one.dispose();
  });

  it('adds the vision->audio bound with add_va', () => {
    const one = lowerOne('fusion', { type: 'mmim', inputs: ['text', 'audio', 'vision'], hidden: 3, dropout: 0, add_va: true }, [['text', vec(5)], ['audio', vec(8)], ['vision', vec(4)]]);
    expect(one.node.params.some((p) => p.name === 'mi_va.mlp_mu.0.weight' && p.shape.join() === '8,4')).toBe(true);
    one.dispose();
  });

  it('lld and NCE have the gradients of their formulas (central differences)', () => {
    const mu = tf.variable(tf.tensor2d(randn(11, 4 * 3), [4, 3]));
    const lv = tf.variable(tf.tensor2d(randn(12, 4 * 3).map((x) => 0.3 * x), [4, 3]));
    const y = tf.variable(tf.tensor2d(randn(13, 4 * 3), [4, 3]));
    expectCentralDifferences(() => gaussianLld(mu, lv, y), [mu, lv, y], 2e-2, [0, 5, 11]);
    const x = tf.variable(tf.tensor2d(randn(14, 5 * 3), [5, 3]));
    const xp = tf.variable(tf.tensor2d(randn(15, 5 * 3), [5, 3]));
    expectCentralDifferences(() => cpcNce(x, xp), [x, xp], 2e-2, [0, 7, 14]);
  });
});
