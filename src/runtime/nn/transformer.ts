// MulT-style transformer encoder (fairseq lineage, MMSA's models/subNets/transformers_encoder): scaled embeddings,
// pre-LN layers of multi-head attention (self or cross-modal, optional shifted causal mask) and a ReLU MLP, final
// LayerNorm. Batch-major [B, T, d] (MMSA is time-major; the maths is the same). Phase 6 creates it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { xavierUniformInit, zerosInit } from './init.js';
import { createLayerNorm, dropout, linear, type LayerNorm } from './layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { attentionCore, type AttentionActivations } from './attention.js';

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
  /** What each layer's attention keeps for the backward pass: its weights ('keep', default) or q, k and v only. */
  activations?: AttentionActivations;
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

export function createTransformerEncoder(store: ParamStore, path: string, opts: TransformerEncoderOptions): TransformerEncoder {
  const o: Required<TransformerEncoderOptions> = {
    attnDropout: 0,
    reluDropout: 0,
    resDropout: 0,
    embedDropout: 0,
    attnMask: false,
    activations: 'keep',
    ...opts,
  };
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
    let x: tf.Tensor = dropout(tf.mul(xIn, scale), o.embedDropout, ctx);
    // MMSA passes the source as key and as value separately: each gets its own embedding-dropout mask (and its own
    // LayerNorm call, with the same parameters) - identical in eval mode, not in training.
    const xk = source ? dropout(tf.mul(source, scale), o.embedDropout, ctx) : undefined;
    const xv = source ? dropout(tf.mul(source, scale), o.embedDropout, ctx) : undefined;
    const Tk = source ? source.shape[1] : T;
    const mask = maskFor(T, Tk);
    for (const L of layers) {
      const residual = x;
      const xq = L.norm0.apply(x);
      let q: tf.Tensor, k: tf.Tensor, v: tf.Tensor;
      if (xk && xv) {
        q = linear(xq, tf.slice(L.inProjWeight, [0, 0], [d, d]), tf.slice(L.inProjBias, [0], [d]));
        k = linear(L.norm0.apply(xk), tf.slice(L.inProjWeight, [d, 0], [d, d]), tf.slice(L.inProjBias, [d], [d]));
        v = linear(L.norm0.apply(xv), tf.slice(L.inProjWeight, [2 * d, 0], [d, d]), tf.slice(L.inProjBias, [2 * d], [d]));
      } else {
        const qkv = linear(xq, L.inProjWeight, L.inProjBias);
        [q, k, v] = tf.split(qkv, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      }
      const att = attentionCore(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, { heads: h, mask, dropout: o.attnDropout, activations: o.activations }, ctx);
      let y = linear(att, L.outProjWeight, L.outProjBias);
      y = dropout(y, o.resDropout, ctx);
      x = tf.add(residual, y);
      const residual2 = x;
      let z = tf.relu(linear(L.norm1.apply(x), L.fc1Weight, L.fc1Bias));
      z = dropout(z, o.reluDropout, ctx);
      z = dropout(linear(z, L.fc2Weight, L.fc2Bias), o.resDropout, ctx);
      x = tf.add(residual2, z);
    }
    return tf.reshape(finalNorm.apply(x), [B, T, d]) as tf.Tensor3D;
  };
  return { path, options: o, apply };
}
