// PyTorch's nn.TransformerEncoder of nn.TransformerEncoderLayer (post-norm, ReLU, the defaults MISA builds): per
// layer x = norm1(x + drop(self_attn(x))), x = norm2(x + drop(linear2(drop(relu(linear1(x)))))). Batch-major [B, T, d]
// (PyTorch's default is sequence-first; the maths is the same). Phase 6 creates it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { xavierUniformInit, zerosInit } from './init.js';
import { createLayerNorm, createLinear, dropout, linear, type LayerNorm, type Linear } from './layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { attentionCore } from './attention.js';

export interface TorchTransformerOptions {
  dModel: number;
  nhead: number;
  layers: number;
  /** dim_feedforward (PyTorch's default 2048). */
  ffn: number;
  /** One dropout probability for the attention weights, both residual branches and the feed-forward (default 0.1). */
  dropout: number;
  /** LayerNorm eps (default 1e-5). */
  eps?: number;
}

interface TorchLayer {
  inProjWeight: tf.Variable;
  inProjBias: tf.Variable;
  outProj: Linear;
  linear1: Linear;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
}

export interface TorchTransformer {
  apply(x: tf.Tensor3D, ctx: ForwardCtx): tf.Tensor3D;
}

/** nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead, ffn, dropout), num_layers) under `path`. */
export function createTorchTransformer(store: ParamStore, path: string, o: TorchTransformerOptions): TorchTransformer {
  const d = o.dModel;
  if (!Number.isInteger(d / o.nhead)) throw new Error(`${path}: d_model ${d} is not a multiple of nhead ${o.nhead}`);
  const eps = o.eps ?? 1e-5;
  const layers: TorchLayer[] = [];
  for (let i = 0; i < o.layers; i++) {
    const l = joinPath(path, `layers.${i}`);
    const attn = joinPath(l, 'self_attn');
    layers.push({
      // nn.MultiheadAttention._reset_parameters: Xavier-uniform packed projection, zero biases.
      inProjWeight: store.param(attn, 'in_proj_weight', [3 * d, d], xavierUniformInit()),
      inProjBias: store.param(attn, 'in_proj_bias', [3 * d], zerosInit),
      outProj: createLinear(store, joinPath(attn, 'out_proj'), d, d, { biasInit: zerosInit }),
      linear1: createLinear(store, joinPath(l, 'linear1'), d, o.ffn),
      linear2: createLinear(store, joinPath(l, 'linear2'), o.ffn, d),
      norm1: createLayerNorm(store, joinPath(l, 'norm1'), d, { eps }),
      norm2: createLayerNorm(store, joinPath(l, 'norm2'), d, { eps }),
    });
  }
  return {
    apply(xIn, ctx) {
      let x: tf.Tensor = xIn;
      for (const L of layers) {
        const [q, k, v] = tf.split(linear(x, L.inProjWeight, L.inProjBias), 3, -1) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const att = L.outProj.apply(attentionCore(q, k, v, { heads: o.nhead, dropout: o.dropout }, ctx));
        x = L.norm1.apply(tf.add(x, dropout(att, o.dropout, ctx)));
        const ff = L.linear2.apply(dropout(tf.relu(L.linear1.apply(x)), o.dropout, ctx));
        x = L.norm2.apply(tf.add(x, dropout(ff, o.dropout, ctx)));
      }
      return x as tf.Tensor3D;
    },
  };
}
