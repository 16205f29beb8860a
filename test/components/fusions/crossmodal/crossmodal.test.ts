// Fusion 'crossmodal' (MulT): MMSA's shifted causal mask, the whole fusion in eval mode against a plain-JS MulT
// (scaled inputs, pre-LN cross-modal and memory layers, final LayerNorm, last steps), and its shape errors.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx, trainCtx } from '../../../../src/runtime/nn/params.js';
import { futureMask, stepPositions } from '../../../../src/runtime/nn/transformer.js';
import { maxAbsDiff, randn } from '../../../runtime/nn/ref.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

type M = number[][];
const lin = (x: M, w: number[], b: number[], out: number): M => x.map((r) => Array.from({ length: out }, (_, o) => b[o]! + r.reduce((s, v, i) => s + v * w[o * r.length + i]!, 0)));
const ln = (x: M, g: number[], b: number[]): M => x.map((r) => {
  const m = r.reduce((s, v) => s + v, 0) / r.length;
  const v = r.reduce((s, u) => s + (u - m) ** 2, 0) / r.length;
  return r.map((u, i) => ((u - m) / Math.sqrt(v + 1e-5)) * g[i]! + b[i]!);
});
const add = (a: M, b: M): M => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));

/** fairseq's sinusoidal row for position p >= 1: [sin(p f_i)..., cos(p f_i)...], f_i = 10000^(-i / (d/2 - 1)). */
const sinusoid = (p: number, d: number): number[] => {
  const h = d / 2;
  const f = Array.from({ length: h }, (_, i) => Math.exp((-i * Math.log(10000)) / (h - 1)));
  return [...f.map((x) => Math.sin(p * x)), ...f.map((x) => Math.cos(p * x))];
};

/**
 * One sample's MulT encoder (T x d rows), queries x over source s (self-attention when s is undefined); with
 * positions, the queries' and the source's position of every step are added after scaling.
 */
function encoderRef(get: (n: string) => number[], layers: number, heads: number, x0: M, s0: M | undefined, mask: boolean, pos?: { q: number[]; s: number[] }): M {
  const d = x0[0]!.length;
  const dh = d / heads;
  const embed = (rows: M, ps: number[] | undefined) => rows.map((r, t) => r.map((v, j) => v * Math.sqrt(d) + (ps ? sinusoid(ps[t]!, d)[j]! : 0)));
  let x = embed(x0, pos?.q);
  const src = s0 ? embed(s0, pos?.s) : undefined;
  for (let l = 0; l < layers; l++) {
    const p = (n: string) => get(`layers.${l}.${n}`);
    const W = p('self_attn.in_proj_weight');
    const bW = p('self_attn.in_proj_bias');
    const xq = ln(x, p('layer_norms.0.weight'), p('layer_norms.0.bias'));
    const kv = src ? ln(src, p('layer_norms.0.weight'), p('layer_norms.0.bias')) : xq;
    const q = lin(xq, W.slice(0, d * d), bW.slice(0, d), d);
    const k = lin(kv, W.slice(d * d, 2 * d * d), bW.slice(d, 2 * d), d);
    const v = lin(kv, W.slice(2 * d * d), bW.slice(2 * d), d);
    const Tq = q.length, Tk = k.length;
    const att: M = q.map(() => new Array(d).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < Tq; i++) {
        const sc = k.map((kr, j) => {
          if (mask && j - i >= 1 + Math.abs(Tk - Tq)) return Number.NEGATIVE_INFINITY;
          let s = 0;
          for (let c = h * dh; c < (h + 1) * dh; c++) s += q[i]![c]! * dh ** -0.5 * kr[c]!;
          return s;
        });
        const mx = Math.max(...sc);
        const e = sc.map((u) => Math.exp(u - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let c = h * dh; c < (h + 1) * dh; c++) att[i]![c] = e.reduce((s, w, j) => s + (w / z) * v[j]![c]!, 0);
      }
    }
    x = add(x, lin(att, p('self_attn.out_proj.weight'), p('self_attn.out_proj.bias'), d));
    const f = lin(ln(x, p('layer_norms.1.weight'), p('layer_norms.1.bias')), p('fc1.weight'), p('fc1.bias'), 4 * d).map((r) => r.map((u) => Math.max(0, u)));
    x = add(x, lin(f, p('fc2.weight'), p('fc2.bias'), d));
  }
  return ln(x, get('layer_norm.weight'), get('layer_norm.bias'));
}

const PARAMS = {
  type: 'crossmodal', inputs: ['a', 'b', 'c'], heads: 2, layers: 1, memory_layers: 2, attn_dropout: { a: 0.3, b: 0.2, c: 0 },
  memory_attn_dropout: 0.3, relu_dropout: 0.1, res_dropout: 0.1, embed_dropout: 0.2, attn_mask: true,
};

describe('crossmodal fusion', () => {
  it("MMSA's buffered_future_mask: masked iff j - i >= 1 + |Tk - Tq|", () => {
    expect(Array.from(futureMask(3, 3))).toEqual([0, 1, 1, 0, 0, 1, 0, 0, 0]);
    // 2 queries over 4 keys: shift 3 -> only (0, 3) is masked
    expect(Array.from(futureMask(2, 4))).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(futureMask(4, 2))).toEqual(new Array(8).fill(0));
  });

  it('eval mode: the fusion equals a plain-JS MulT (6 cross-modal encoders, 3 memories, last steps) on unequal lengths', () => {
    const B = 2, d = 4, T = [3, 5, 2];
    const n = lowerOne('fusion', PARAMS, [['a', seq(T[0]!, d)], ['b', seq(T[1]!, d)], ['c', seq(T[2]!, d)]], 7);
    expect(n.node.output.shape).toEqual(['B', 3 * 2 * d]);
    const xs = T.map((t, i) => randn(40 + i, B * t * d));
    const y = n.lowered.apply(xs.map((x, i) => value(tf.tensor3d(x, [B, T[i]!, d]))), evalCtx()).tensor.dataSync();
    const ref: number[] = [];
    const rows = (i: number, b: number): M => Array.from({ length: T[i]! }, (_, t) => xs[i]!.slice((b * T[i]! + t) * d, (b * T[i]! + t + 1) * d));
    const names = ['a', 'b', 'c'];
    for (let b = 0; b < B; b++) {
      for (let ti = 0; ti < 3; ti++) {
        const crossed = names.flatMap((s, si) => (si === ti ? [] : [encoderRef((k) => n.values(`${names[ti]}_with_${s}.${k}`), 1, 2, rows(ti, b), rows(si, b), true)]));
        const cat = crossed[0]!.map((r, t) => [...r, ...crossed[1]![t]!]);
        const mem = encoderRef((k) => n.values(`${names[ti]}_mem.${k}`), 2, 2, cat, undefined, true);
        ref.push(...mem[mem.length - 1]!);
      }
    }
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
    // Training applies the dropouts (embedding, attention, residual, ReLU): another output.
    const yt = n.lowered.apply(xs.map((x, i) => value(tf.tensor3d(x, [B, T[i]!, d]))), trainCtx(5)).tensor.dataSync();
    expect(maxAbsDiff(yt, ref)).toBeGreaterThan(1e-3);
    n.dispose();
  });

  it("MMSA's positions of a contiguous time-major source: row b, step t gets the (t * B + b)-th of the rows' 1..T", () => {
    // What torch 1.13 gives for make_positions on a [16, 6] view of a time-major [6, 16, d] tensor (MMSA's TETFN).
    const p = stepPositions(new Float32Array(16 * 6).fill(1), 16, 6, 'time_major');
    expect(Array.from(p.slice(0, 18))).toEqual([1, 5, 3, 1, 5, 3, 2, 6, 4, 2, 6, 4, 3, 1, 5, 3, 1, 5]);
    expect(Array.from(stepPositions([1, 0, 2, 3, 1, 0], 2, 3, 'steps'))).toEqual([1, 0, 3, 1, 2, 0]);
  });

  it("text-enhanced blocks (TETFN): lower encoder source <- via, upper target <- lower's output, both with positions", () => {
    const B = 2, d = 4, T = [3, 5, 2];
    const te = { ...PARAMS, text_enhanced: { via: 'a', lower_layers: 1, upper_source_positions: 'time_major' } };
    const n = lowerOne('fusion', te, [['a', seq(T[0]!, d)], ['b', seq(T[1]!, d)], ['c', seq(T[2]!, d)]], 8);
    const xs = T.map((t, i) => randn(50 + i, B * t * d));
    const y = n.lowered.apply(xs.map((x, i) => value(tf.tensor3d(x, [B, T[i]!, d]))), evalCtx()).tensor.dataSync();
    const rows = (i: number, b: number): M => Array.from({ length: T[i]! }, (_, t) => xs[i]!.slice((b * T[i]! + t) * d, (b * T[i]! + t + 1) * d));
    const steps = (t: number) => Array.from({ length: t }, (_, i) => i + 1);
    const timeMajor = (t: number, b: number) => Array.from({ length: t }, (_, i) => ((i * B + b) % t) + 1);
    const names = ['a', 'b', 'c'];
    const ref: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let ti = 0; ti < 3; ti++) {
        const crossed = names.flatMap((s, si) => {
          if (si === ti) return [];
          const pre = `${names[ti]}_with_${s}`;
          if (ti === 0 || si === 0) return [encoderRef((k) => n.values(`${pre}.${k}`), 1, 2, rows(ti, b), rows(si, b), true)];
          const lower = encoderRef((k) => n.values(`${pre}.lower_mha.${k}`), 1, 2, rows(si, b), rows(0, b), true, { q: steps(T[si]!), s: steps(T[0]!) });
          return [encoderRef((k) => n.values(`${pre}.upper_mha.${k}`), 1, 2, rows(ti, b), lower, true, { q: steps(T[ti]!), s: timeMajor(T[si]!, b) })];
        });
        const cat = crossed[0]!.map((r, t) => [...r, ...crossed[1]![t]!]);
        const mem = encoderRef((k) => n.values(`${names[ti]}_mem.${k}`), 2, 2, cat, undefined, true);
        ref.push(...mem[mem.length - 1]!);
      }
    }
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
    const def = getComponent('fusion', 'crossmodal')!;
    const r = runInfer(def, te, [['a', seq(3, 4)], ['b', seq(5, 4)], ['c', seq(2, 4)]]);
    expect(def.paramNames!(te)).toEqual(r.result!.params.map((p) => p.name));
    const ignore = (def.mmsaNames!.ignore as (p: unknown) => string[])(te);
    expect(ignore).toContain('b_with_c.upper_mha.embed_positions._float_tensor');
    expect(ignore).toContain('a_with_b.version');
    const bad = runInfer(def, { ...te, text_enhanced: { via: 'x', lower_layers: 1 } }, [['a', seq(3, 4)], ['b', seq(5, 4)], ['c', seq(2, 4)]]);
    expect(bad.reports.map((x) => x.args['detail'])).toEqual(["text_enhanced.via 'x' is not an input"]);
    n.dispose();
  });

  it('declares the encoders in MMSA order and ignores their version buffers on import', () => {
    const def = getComponent('fusion', 'crossmodal')!;
    const r = runInfer(def, PARAMS, [['a', seq(3, 4)], ['b', seq(5, 4)], ['c', seq(2, 4)]]);
    const prefixes = [...new Set(r.result!.params.map((p) => p.name.split('.')[0]))];
    expect(prefixes).toEqual(['a_with_b', 'a_with_c', 'a_mem', 'b_with_a', 'b_with_c', 'b_mem', 'c_with_a', 'c_with_b', 'c_mem']);
    expect(r.result!.params.find((p) => p.name === 'a_mem.layers.1.self_attn.in_proj_weight')!.shape).toEqual([24, 8]);
    expect(def.paramNames!(PARAMS)).toEqual(r.result!.params.map((p) => p.name));
    const ignore = def.mmsaNames!.ignore as (p: unknown) => string[];
    expect(ignore(PARAMS)).toContain('b_mem.version');
  });

  it('shape errors: unequal widths, heads that do not divide, attn_dropout keys that are not inputs', () => {
    const def = getComponent('fusion', 'crossmodal')!;
    const widths = runInfer(def, PARAMS, [['a', seq(3, 4)], ['b', seq(5, 6)], ['c', seq(2, 4)]]);
    expect(widths.result).toBeUndefined();
    expect(widths.reports.map((x) => x.args['detail'])).toEqual(["every input must have the same width: 'a' gives 4 features, 'b' 6"]);
    const heads = runInfer(def, { ...PARAMS, heads: 3 }, [['a', seq(3, 4)], ['b', seq(5, 4)], ['c', seq(2, 4)]]);
    expect(heads.reports.map((x) => x.args['detail'])).toEqual(["3 heads do not divide the inputs' width 4", "3 heads do not divide the memories' width 8"]);
    const keys = runInfer(def, { ...PARAMS, attn_dropout: { a: 0.1, x: 0.2 } }, [['a', seq(3, 4)], ['b', seq(5, 4)], ['c', seq(2, 4)]]);
    expect(keys.reports.map((x) => x.args['detail'])).toEqual(["attn_dropout names 'x', which is not an input and has no value for 'b', 'c'"]);
    const seqOnly = runInfer(def, PARAMS, [['a', seq(3, 4)], ['b', { kind: 'vector', shape: ['B', 4], dtype: 'float32' }], ['c', seq(2, 4)]]);
    expect(seqOnly.reports.map((x) => x.code)).toEqual(['MSA4002']);
  });
});
