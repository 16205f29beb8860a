// ALMT's hyper-modality learning layer (models/singleTask/ALMT.py PreNormAHL + HhyperLearningLayer), the maths only the
// 'ahl' fusion uses; its attention is the shared core of src/runtime/nn/attention.ts. Phase 6 creates it, 7 runs it.

import * as tf from '@tensorflow/tfjs';
import { attentionCore, createLayerNorm, joinPath, linear, linearInit, type ForwardCtx, type LayerNorm, type ParamStore } from '../../../runtime/nn/index.js';

export interface AhlLayer {
  /** h_t, h_a, h_v, h_hyper [B, n, d] -> the new h_hyper [B, n, d]. */
  apply(ht: tf.Tensor3D, ha: tf.Tensor3D, hv: tf.Tensor3D, hyper: tf.Tensor3D, ctx: ForwardCtx): tf.Tensor3D;
}

/**
 * One AHL layer under `path` (MMSA's `h_hyper_layer.layers.{i}.0`): separate LayerNorms norm1..norm4 for text, audio,
 * vision and the hyper tokens; q from the text, keys and values from audio and from vision (bias-free, heads x
 * headDim); the two attentions summed, to_out, added to the hyper tokens. Quirk kept: the residual adds to the
 * *normalised* hyper tokens (`h_hyper += shift` runs on norm4's output), so each layer's output is
 * norm4(h_hyper) + shift, never the raw h_hyper + shift.
 */
export function createAhlLayer(store: ParamStore, path: string, d: number, heads: number, headDim: number): AhlLayer {
  const inner = heads * headDim;
  const norms: LayerNorm[] = ['norm1', 'norm2', 'norm3', 'norm4'].map((n) => createLayerNorm(store, joinPath(path, n), d));
  const w = (name: string) => store.param(joinPath(path, `fn.${name}`), 'weight', [inner, d], linearInit(d));
  const [toQ, toKta, toKtv, toVta, toVtv] = ['to_q', 'to_k_ta', 'to_k_tv', 'to_v_ta', 'to_v_tv'].map(w) as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  // project_out = not (heads == 1 and dim_head == dim): otherwise to_out is the identity.
  const out = heads === 1 && headDim === d ? undefined : { path: joinPath(path, 'fn.to_out.0') };
  const outW = out ? store.param(out.path, 'weight', [d, inner], linearInit(inner)) : undefined;
  const outB = out ? store.param(out.path, 'bias', [d], linearInit(inner)) : undefined;
  return {
    apply(ht, ha, hv, hyper, ctx) {
      const [t, a, v, hy] = [ht, ha, hv, hyper].map((x, i) => norms[i]!.apply(x)) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const q = linear(t, toQ) as tf.Tensor3D;
      const att = (src: tf.Tensor3D, k: tf.Variable, vv: tf.Variable) => attentionCore(q, linear(src, k) as tf.Tensor3D, linear(src, vv) as tf.Tensor3D, { heads }, ctx);
      const sum = tf.add(att(a, toKta, toVta), att(v, toKtv, toVtv));
      const shift = outW && outB ? linear(sum, outW, outB) : sum;
      return tf.add(hy, shift) as tf.Tensor3D;
    },
  };
}
