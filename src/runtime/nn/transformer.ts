// Pre-LN transformer encoders: MulT's (fairseq lineage, MMSA's models/subNets/transformers_encoder: scaled embeddings,
// layers of multi-head attention (self or cross-modal, optional shifted causal mask) and a ReLU MLP, final LayerNorm)
// and, as `layout: 'vit'`, ALMT's ViT-style blocks. Batch-major [B, T, d]. Phase 6 creates it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { xavierUniformInit, zerosInit } from './init.js';
import { createLayerNorm, createLinear, dropout, layerNorm, linear, type LayerNorm, type Linear } from './layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { nativeBertKernels } from '../backend/bert-kernels.js';
import { attentionCore, attentionWithDropout, drawAttentionDropout, type AttentionActivations, type AttentionDropout } from './attention.js';
import { geluErf } from './bert/layer.js';

export interface TransformerEncoderOptions {
  embedDim: number;
  numHeads: number;
  layers: number;
  attnDropout?: number;
  reluDropout?: number;
  resDropout?: number;
  embedDropout?: number;
  /** MMSA's `attn_mask`: the causal mask, shifted by the length difference for cross-modal attention. */
  attnMask?: boolean;
  /**
   * MMSA's `position_embedding`: fairseq's sinusoidal positions added to the scaled queries, keys and values (off in
   * MulT, on in TETFN's text-enhanced blocks).
   */
  positions?: boolean;
  /**
   * How the keys' and values' positions are numbered: 'steps' (step t is position t + 1) or 'time_major', MMSA's
   * numbering for a source that is a contiguous time-major tensor (TETFN's lower encoder output; see
   * sinusoidalPositions).
   */
  sourcePositions?: PositionOrder;
  /**
   * What each layer keeps for the backward pass in training: its activations, op by op ('keep', default), or only its
   * inputs, running again in the backward pass ('recompute'; the same bits, a fraction of the memory).
   */
  activations?: AttentionActivations;
  /**
   * 'fairseq' (MulT's, the default) or 'vit': ALMT's ViT-style pre-norm blocks (models/singleTask/ALMT.py
   * TransformerEncoder and CrossTransformerEncoder): per layer x += to_out(attention(to_q(LN_q(x)), to_k(LN_k(s)),
   * to_v(LN_v(s)))) with its own LayerNorm for each of q, k and v (s = x in self-attention, the source in cross
   * attention), bias-free projections to heads x headDim, then x += net.3(GELU(net.0(LN(x)))); no embedding scale, no
   * final LayerNorm; no dropout (ALMT's are all 0) and no causal mask.
   */
  layout?: 'fairseq' | 'vit';
  /** 'vit': the size of one head (ALMT's dim_head, default 64; the heads' inner width is numHeads x headDim). */
  headDim?: number;
  /** 'vit': the MLP's hidden width (mlp_dim). */
  ffn?: number;
}

interface EncoderLayer {
  inProjWeight: tf.Variable;
  inProjBias: tf.Variable;
  outProjWeight: tf.Variable;
  outProjBias: tf.Variable;
  fc1Weight: tf.Variable;
  fc1Bias: tf.Variable;
  fc2Weight: tf.Variable;
  fc2Bias: tf.Variable;
  norm0: LayerNorm;
  norm1: LayerNorm;
}

export interface TransformerEncoder {
  path: string;
  options: Required<TransformerEncoderOptions>;
  /**
   * Self-attention over x [B, T, d], or cross-modal attention of x (queries) over `source` [B, Ts, d] (keys and
   * values); returns [B, T, d].
   */
  apply(x: tf.Tensor3D, source: tf.Tensor3D | undefined, ctx: ForwardCtx): tf.Tensor3D;
  /** 'vit': the input and every layer's output, [x, layer 1, ..., layer n] (ALMT's `save_hidden`). */
  hidden?(x: tf.Tensor3D, source: tf.Tensor3D | undefined, ctx: ForwardCtx): tf.Tensor3D[];
}

/**
 * MMSA's buffered_future_mask for queries of length tq over keys of length tk: entry (i, j) is masked iff
 * j - i >= 1 + |tk - tq| (for self-attention the usual upper-triangular causal mask). 1 = masked.
 */
export function futureMask(tq: number, tk: number): Uint8Array {
  const m = new Uint8Array(tq * tk);
  const shift = 1 + Math.abs(tk - tq);
  for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) if (j - i >= shift) m[i * tk + j] = 1;
  return m;
}

export type PositionOrder = 'steps' | 'time_major';

/**
 * The position of every step of x [B, T, ...] from its first feature (0 for padding). 'steps': t + 1. 'time_major':
 * what MMSA's make_positions gives when the encoder's input is a contiguous time-major tensor [T, B, d] (an encoder's
 * output, not a permuted Conv1d output): its clone keeps the time-major layout and torch's masked_scatter_ (1.13)
 * writes the row-major list of positions (1..T for every row) in memory order, so step t of row b gets the
 * (t * B + b)-th of them - a position that depends on the row's place in the batch and on the batch size.
 */
export function stepPositions(first: ArrayLike<number>, B: number, T: number, order: PositionOrder): Int32Array {
  const pos = new Int32Array(B * T);
  if (order === 'steps') {
    for (let i = 0; i < B * T; i++) if (first[i] !== 0) pos[i] = (i % T) + 1;
    return pos;
  }
  const listed: number[] = [];
  for (let i = 0; i < B * T; i++) if (first[i] !== 0) listed.push((i % T) + 1);
  let k = 0;
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (first[b * T + t] !== 0) pos[b * T + t] = listed[k++]!;
  return pos;
}

/**
 * fairseq's SinusoidalPositionalEmbedding (MMSA's transformers_encoder/position_embedding.py) for a sequence x
 * [B, T, d]: step t gets position t + 1 unless its first feature is exactly 0, which marks padding (padding_idx 0)
 * and gets position 0, a zero row. Row p is [sin(p f_0..f_{h-1}), cos(p f_0..f_{h-1})] (halves, not interleaved),
 * f_i = exp(-i ln(10000) / (h - 1)), h = floor(d / 2), a zero column last when d is odd; float32 as torch makes it.
 * A constant of the input's values (no gradient), so the padding test reads them on the host.
 */
export function sinusoidalPositions(x: tf.Tensor3D, order: PositionOrder = 'steps'): tf.Tensor3D {
  const [B, T, d] = x.shape;
  const half = Math.floor(d / 2);
  const step = Math.fround(Math.log(10000) / (half - 1));
  const freq = Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(i * -step))));
  const first = tf.tidy(() => tf.reshape(tf.slice(x, [0, 0, 0], [B, T, 1]), [B * T]).dataSync() as Float32Array);
  const out = new Float32Array(B * T * d);
  // Row p - 1 holds position p (position 0, padding, is the zero row).
  const rows = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround((t + 1) * freq[i]!);
      rows[t * d + i] = Math.sin(a);
      rows[t * d + half + i] = Math.cos(a);
    }
  }
  const pos = stepPositions(first, B, T, order);
  for (let i = 0; i < B * T; i++) if (pos[i]! > 0) out.set(rows.subarray((pos[i]! - 1) * d, pos[i]! * d), i * d);
  return tf.tensor3d(out, [B, T, d]);
}

/** One layer's sizes: queries [B, Tq, d] over keys [B, Tk, d], the causal mask when there is one. */
interface LayerShape {
  B: number;
  Tq: number;
  Tk: number;
  d: number;
  heads: number;
  mask: Uint8Array | undefined;
  /** Cross-modal (keys and values from another sequence) or self-attention. */
  cross: boolean;
}

/** A dropout mask in JS memory (values 0 or 1/(1-p)), 'zero' for p >= 1, undefined when nothing drops. */
type Drop = Float32Array | 'zero' | undefined;

/** One layer's dropout masks, in the order the layer applies them (as dropout() would draw them). */
interface LayerDropout {
  attn: AttentionDropout;
  res1: Drop;
  relu: Drop;
  res2: Drop;
}

function drawDrop(n: number, p: number, ctx: ForwardCtx): Drop {
  if (!ctx.training || p <= 0) return undefined;
  if (p >= 1) return 'zero';
  const m = new Float32Array(n);
  ctx.rng.fillMask(m, p, 1 / (1 - p));
  return m;
}

/** dropout() with a mask drawn before: the same ops, so the same bits. */
function applyDrop(x: tf.Tensor, m: Drop): tf.Tensor {
  if (m === undefined) return x;
  return m === 'zero' ? tf.zerosLike(x) : tf.mul(x, tf.tensor(m, x.shape, 'float32'));
}

function drawLayerDropout(s: LayerShape, o: Required<TransformerEncoderOptions>, ctx: ForwardCtx): LayerDropout {
  const n = s.B * s.Tq * s.d;
  return {
    attn: drawAttentionDropout(s.B * s.heads * s.Tq * s.Tk, o.attnDropout, ctx),
    res1: drawDrop(n, o.resDropout, ctx),
    relu: drawDrop(4 * n, o.reluDropout, ctx),
    res2: drawDrop(n, o.resDropout, ctx),
  };
}

/** The weights the layer body reads after its LayerNorm inputs, in the order transformerLayerOp passes them. */
function layerWeights(L: EncoderLayer): tf.Tensor[] {
  return [L.inProjWeight, L.inProjBias, L.outProjWeight, L.outProjBias, L.norm1.weight, L.norm1.bias, L.fc1Weight, L.fc1Bias, L.fc2Weight, L.fc2Bias];
}

/**
 * One layer: inputs [x, LN0(x), LN0(key source), LN0(value source), ...weights] (cross-modal) or [x, LN0's weight and
 * bias, ...weights] (self-attention) -> x + attention + feed-forward. Its attention keeps its weights: this runs
 * either on the outer tape ('keep') or inside transformerLayerOp, whose recomputation holds one layer at a time.
 */
function layerBody(inputs: tf.Tensor[], s: LayerShape, drops: LayerDropout): tf.Tensor {
  const x = inputs[0]!;
  const [inW, inB, outW, outB, n1W, n1B, fc1W, fc1B, fc2W, fc2B] = inputs.slice(s.cross ? 4 : 3) as tf.Tensor[];
  const d = s.d;
  let q: tf.Tensor, k: tf.Tensor, v: tf.Tensor;
  if (s.cross) {
    const [xq, kn, vn] = inputs.slice(1, 4) as [tf.Tensor, tf.Tensor, tf.Tensor];
    q = linear(xq, tf.slice(inW!, [0, 0], [d, d]), tf.slice(inB!, [0], [d]));
    k = linear(kn, tf.slice(inW!, [d, 0], [d, d]), tf.slice(inB!, [d], [d]));
    v = linear(vn, tf.slice(inW!, [2 * d, 0], [d, d]), tf.slice(inB!, [2 * d], [d]));
  } else {
    [q, k, v] = tf.split(linear(layerNormOp(x, inputs[1]!, inputs[2]!), inW!, inB!), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  const att = attentionWithDropout(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, { heads: s.heads, mask: s.mask, activations: 'keep' }, drops.attn);
  const x1 = tf.add(x, applyDrop(linear(att, outW!, outB!), drops.res1));
  const z = applyDrop(tf.relu(linear(layerNormOp(x1, n1W!, n1B!), fc1W!, fc1B!)), drops.relu);
  return tf.add(x1, applyDrop(linear(z, fc2W!, fc2B!), drops.res2));
}

/** MMSA's LayerNorm eps (torch's default). */
const LN_EPS = 1e-5;

/**
 * LayerNorm over the last axis. With mmsa's native kernels it is one op whose forward and backward are one native
 * pass each (the BERT layer's LayerNorm kernels) and which keeps only the normalised input and the per-row scale for
 * its backward; else the tensor ops of createLayerNorm (the same bits as before those kernels existed).
 */
function layerNormOp(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const nk = nativeBertKernels();
  if (!nk) return layerNorm(x, weight, bias, LN_EPS);
  const op = tf.customGrad(((xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { y, xhat, rstd } = nk.layerNorm(xi, w, b, LN_EPS);
    save([xhat, rstd, w]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const r = nk.layerNormBackward(dy, xh, rs, g, undefined);
        tf.dispose([r.dmasked, r.dbias]);
        return [r.dx, r.dgamma, r.dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor>>[0]);
  return op(x, weight, bias);
}

/**
 * tf.grads inside a gradient function of an outer tf.grads/variableGrads. tfjs starts a tape of its own for it (the
 * outer one has ended its forward), but when it finishes it clears the engine's record of the outer tape, through
 * which the outer call disposes its saved tensors at its end: put that record back.
 */
function nestedGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outer = state.activeTape;
  try {
    return tf.grads(f)(xs, dy);
  } finally {
    state.activeTape = outer;
  }
}

/**
 * One layer as one differentiable op that keeps only its inputs: its forward's intermediates are freed when it
 * returns, and its backward runs the layer again on the saved inputs under a tape of its own and differentiates that
 * (the same ops and the same dropout masks, so the same bits as keeping). A cross-modal layer's pre-attention
 * LayerNorms stay outside, on the outer tape: they read the key and value sources every layer of the encoder shares,
 * and tfjs adds a tensor's gradients one by one in tape order, so only there are the sources' gradients (and norm0's
 * weight gradient, summed over queries, keys and values) added in the order 'keep' adds them.
 */
function transformerLayerOp(inputs: tf.Tensor[], s: LayerShape, drops: LayerDropout): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args.slice(0, -1) as tf.Tensor[];
    save(xs);
    return {
      value: layerBody(xs, s, drops),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => nestedGrads((...ys: tf.Tensor[]) => layerBody(ys, s, drops), saved, dy),
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor>>[0]);
  return op(...inputs);
}

export function createTransformerEncoder(store: ParamStore, path: string, opts: TransformerEncoderOptions): TransformerEncoder {
  const o: Required<TransformerEncoderOptions> = {
    attnDropout: 0,
    reluDropout: 0,
    resDropout: 0,
    embedDropout: 0,
    attnMask: false,
    positions: false,
    sourcePositions: 'steps',
    activations: 'keep',
    layout: 'fairseq',
    headDim: opts.embedDim / opts.numHeads,
    ffn: 4 * opts.embedDim,
    ...opts,
  };
  if (o.layout === 'vit') return createVitLayers(store, path, o);
  const d = o.embedDim;
  const h = o.numHeads;
  if (!Number.isInteger(d / h)) throw new Error(`${path}: embed_dim ${d} is not a multiple of num_heads ${h}`);
  const xavier = xavierUniformInit();
  const layers: EncoderLayer[] = [];
  for (let i = 0; i < o.layers; i++) {
    const l = joinPath(path, `layers.${i}`);
    const attn = joinPath(l, 'self_attn');
    layers.push({
      inProjWeight: store.param(attn, 'in_proj_weight', [3 * d, d], xavier),
      inProjBias: store.param(attn, 'in_proj_bias', [3 * d], zerosInit),
      outProjWeight: store.param(joinPath(attn, 'out_proj'), 'weight', [d, d], xavier),
      outProjBias: store.param(joinPath(attn, 'out_proj'), 'bias', [d], zerosInit),
      fc1Weight: store.param(joinPath(l, 'fc1'), 'weight', [4 * d, d], xavier),
      fc1Bias: store.param(joinPath(l, 'fc1'), 'bias', [4 * d], zerosInit),
      fc2Weight: store.param(joinPath(l, 'fc2'), 'weight', [d, 4 * d], xavier),
      fc2Bias: store.param(joinPath(l, 'fc2'), 'bias', [d], zerosInit),
      norm0: createLayerNorm(store, joinPath(l, 'layer_norms.0'), d),
      norm1: createLayerNorm(store, joinPath(l, 'layer_norms.1'), d),
    });
  }
  const finalNorm = createLayerNorm(store, joinPath(path, 'layer_norm'), d);
  const scale = Math.sqrt(d);
  const masks = new Map<string, Uint8Array>();
  const maskFor = (tq: number, tk: number): Uint8Array | undefined => {
    if (!o.attnMask) return undefined;
    const key = `${tq}x${tk}`;
    let m = masks.get(key);
    if (!m) masks.set(key, (m = futureMask(tq, tk)));
    return m;
  };

  const apply = (xIn: tf.Tensor3D, source: tf.Tensor3D | undefined, ctx: ForwardCtx): tf.Tensor3D => {
    const [B, T] = xIn.shape;
    const embed = (t: tf.Tensor3D, order: PositionOrder): tf.Tensor => {
      const scaled = tf.mul(t, scale);
      return dropout(o.positions ? tf.add(scaled, sinusoidalPositions(t, order)) : scaled, o.embedDropout, ctx);
    };
    let x: tf.Tensor = embed(xIn, 'steps');
    // MMSA passes the source as key and as value separately: each gets its own embedding-dropout mask (and its own
    // LayerNorm call, with the same parameters) - identical in eval mode, not in training.
    const xk = source ? embed(source, o.sourcePositions) : undefined;
    const xv = source ? embed(source, o.sourcePositions) : undefined;
    const Tk = source ? source.shape[1] : T;
    const shape: LayerShape = { B, Tq: T, Tk, d, heads: h, mask: maskFor(T, Tk), cross: source !== undefined };
    // Recomputing a layer only pays where a backward pass will run; evaluation runs the same ops either way.
    const recompute = ctx.training && o.activations === 'recompute';
    for (const L of layers) {
      // Drawn before the layer runs, in the order its ops use them, so a recomputation drops the same values.
      const drops = drawLayerDropout(shape, o, ctx);
      // A cross-modal layer's pre-attention LayerNorms stay on the outer tape (see transformerLayerOp).
      const inputs =
        xk && xv
          ? [x, ...[x, xk, xv].map((t) => layerNormOp(t, L.norm0.weight, L.norm0.bias)), ...layerWeights(L)]
          : [x, L.norm0.weight, L.norm0.bias, ...layerWeights(L)];
      x = recompute ? transformerLayerOp(inputs, shape, drops) : layerBody(inputs, shape, drops);
    }
    return tf.reshape(layerNormOp(x, finalNorm.weight, finalNorm.bias), [B, T, d]) as tf.Tensor3D;
  };
  return { path, options: o, apply };
}

interface VitLayer {
  normQ: LayerNorm;
  normK: LayerNorm;
  normV: LayerNorm;
  toQ: Linear;
  toK: Linear;
  toV: Linear;
  /** Absent when one head spans the whole width (ALMT's project_out false: to_out is the identity). */
  toOut: Linear | undefined;
  norm: LayerNorm;
  fc1: Linear;
  fc2: Linear;
}

/** Whether ALMT's Attention has its output Linear: `project_out = not (heads == 1 and dim_head == dim)`. */
export function vitProjectsOut(d: number, heads: number, headDim: number): boolean {
  return !(heads === 1 && headDim === d);
}

/** The 'vit' layout (see TransformerEncoderOptions.layout); parameters under MMSA's names `layers.{i}.0|1.*`. */
function createVitLayers(store: ParamStore, path: string, o: Required<TransformerEncoderOptions>): TransformerEncoder {
  const d = o.embedDim;
  const inner = o.numHeads * o.headDim;
  const layers: VitLayer[] = [];
  for (let i = 0; i < o.layers; i++) {
    const attn = joinPath(path, `layers.${i}.0`);
    const ff = joinPath(path, `layers.${i}.1`);
    // nn.Linear's default init (kaiming-uniform weight, uniform bias) everywhere, as ALMT leaves it.
    const noBias = { bias: false } as const;
    layers.push({
      normQ: createLayerNorm(store, joinPath(attn, 'norm_q'), d),
      normK: createLayerNorm(store, joinPath(attn, 'norm_k'), d),
      normV: createLayerNorm(store, joinPath(attn, 'norm_v'), d),
      toQ: createLinear(store, joinPath(attn, 'fn.to_q'), d, inner, noBias),
      toK: createLinear(store, joinPath(attn, 'fn.to_k'), d, inner, noBias),
      toV: createLinear(store, joinPath(attn, 'fn.to_v'), d, inner, noBias),
      toOut: vitProjectsOut(d, o.numHeads, o.headDim) ? createLinear(store, joinPath(attn, 'fn.to_out.0'), inner, d) : undefined,
      norm: createLayerNorm(store, joinPath(ff, 'norm'), d),
      fc1: createLinear(store, joinPath(ff, 'fn.net.0'), d, o.ffn),
      fc2: createLinear(store, joinPath(ff, 'fn.net.3'), o.ffn, d),
    });
  }
  const hidden = (xIn: tf.Tensor3D, source: tf.Tensor3D | undefined, ctx: ForwardCtx): tf.Tensor3D[] => {
    const out: tf.Tensor3D[] = [xIn];
    let x: tf.Tensor = xIn;
    for (const L of layers) {
      const s = source ?? x;
      const q = L.toQ.apply(layerNormOp(x, L.normQ.weight, L.normQ.bias));
      const k = L.toK.apply(layerNormOp(s, L.normK.weight, L.normK.bias));
      const v = L.toV.apply(layerNormOp(s, L.normV.weight, L.normV.bias));
      const att = attentionCore(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, { heads: o.numHeads }, ctx);
      x = tf.add(x, L.toOut ? L.toOut.apply(att) : att);
      const h = geluErf(L.fc1.apply(layerNormOp(x, L.norm.weight, L.norm.bias)));
      x = tf.add(x, L.fc2.apply(h));
      out.push(x as tf.Tensor3D);
    }
    return out;
  };
  return { path, options: o, apply: (x, source, ctx) => hidden(x, source, ctx).at(-1)!, hidden };
}
