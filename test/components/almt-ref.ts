// Plain-JS maths of ALMT's blocks (models/singleTask/ALMT.py), for the 'vit' encoder's and the 'ahl' fusion's tests:
// one sample at a time, [T][d] rows, LayerNorm eps 1e-5, exact (erf) GELU.
import { linearRef, reshape2, type Mat } from '../runtime/nn/ref.js';

export type Get = (local: string) => number[];

export function layerNormRef(r: number[], w: number[], b: number[]): number[] {
  const m = r.reduce((s, v) => s + v, 0) / r.length;
  const v = r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length;
  return r.map((x, i) => ((x - m) / Math.sqrt(v + 1e-5)) * w[i]! + b[i]!);
}

/** erf to ~1e-7 (Abramowitz and Stegun 7.1.26). */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const geluRef = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

const ln = (x: Mat, g: Get, p: string) => x.map((r) => layerNormRef(r, g(`${p}.weight`), g(`${p}.bias`)));
const lin = (x: Mat, g: Get, p: string, out: number, inF: number, bias = true) => linearRef(x, reshape2(g(`${p}.weight`), out, inF), bias ? g(`${p}.bias`) : undefined);

/** Multi-head softmax attention of projected q [Tq][h*dh] over k, v [Tk][h*dh]; heads outermost in the width. */
export function attentionRef(q: Mat, k: Mat, v: Mat, heads: number): Mat {
  const inner = q[0]!.length;
  const dh = inner / heads;
  const out: Mat = q.map(() => new Array(inner).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < q.length; i++) {
      const s = k.map((kr) => {
        let dot = 0;
        for (let c = 0; c < dh; c++) dot += q[i]![h * dh + c]! * kr[h * dh + c]!;
        return dot * dh ** -0.5;
      });
      const mx = Math.max(...s);
      const e = s.map((x) => Math.exp(x - mx));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dh; c++) out[i]![h * dh + c] = e.reduce((acc, w, j) => acc + (w / z) * v[j]![h * dh + c]!, 0);
    }
  }
  return out;
}

/** ALMT's TransformerEncoder / CrossTransformerEncoder layers under `prefix`; every layer's output (with the input first). */
export function vitLayersRef(x0: Mat, source: Mat | undefined, g: Get, prefix: string, o: { layers: number; heads: number; headDim: number; ffn: number }): Mat[] {
  const d = x0[0]!.length;
  const inner = o.heads * o.headDim;
  const states: Mat[] = [x0];
  let x = x0;
  for (let i = 0; i < o.layers; i++) {
    const a = `${prefix}.layers.${i}.0`;
    const f = `${prefix}.layers.${i}.1`;
    const s = source ?? x;
    const q = lin(ln(x, g, `${a}.norm_q`), g, `${a}.fn.to_q`, inner, d, false);
    const k = lin(ln(s, g, `${a}.norm_k`), g, `${a}.fn.to_k`, inner, d, false);
    const v = lin(ln(s, g, `${a}.norm_v`), g, `${a}.fn.to_v`, inner, d, false);
    let att = attentionRef(q, k, v, o.heads);
    if (!(o.heads === 1 && o.headDim === d)) att = lin(att, g, `${a}.fn.to_out.0`, d, inner);
    x = x.map((r, t) => r.map((val, c) => val + att[t]![c]!));
    const h = lin(ln(x, g, `${f}.norm`), g, `${f}.fn.net.0`, o.ffn, d).map((r) => r.map(geluRef));
    const ff = lin(h, g, `${f}.fn.net.3`, d, o.ffn);
    x = x.map((r, t) => r.map((val, c) => val + ff[t]![c]!));
    states.push(x);
  }
  return states;
}

/** One AHL layer under `p` (PreNormAHL + HhyperLearningLayer): norm4(h_hyper) + to_out(att(t -> a) + att(t -> v)). */
export function ahlLayerRef(ht: Mat, ha: Mat, hv: Mat, hyper: Mat, g: Get, p: string, heads: number): Mat {
  const d = ht[0]!.length;
  const dh = Math.trunc(d / heads);
  const inner = heads * dh;
  const t = ln(ht, g, `${p}.norm1`);
  const a = ln(ha, g, `${p}.norm2`);
  const v = ln(hv, g, `${p}.norm3`);
  const hy = ln(hyper, g, `${p}.norm4`);
  const q = lin(t, g, `${p}.fn.to_q`, inner, d, false);
  const ta = attentionRef(q, lin(a, g, `${p}.fn.to_k_ta`, inner, d, false), lin(a, g, `${p}.fn.to_v_ta`, inner, d, false), heads);
  const tv = attentionRef(q, lin(v, g, `${p}.fn.to_k_tv`, inner, d, false), lin(v, g, `${p}.fn.to_v_tv`, inner, d, false), heads);
  let shift = ta.map((r, i) => r.map((x, c) => x + tv[i]![c]!));
  if (!(heads === 1 && dh === d)) shift = lin(shift, g, `${p}.fn.to_out.0`, d, inner);
  return hy.map((r, i) => r.map((x, c) => x + shift[i]![c]!));
}
