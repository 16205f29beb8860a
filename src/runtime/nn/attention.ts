// Scaled dot-product multi-head attention on projected queries, keys and values (fairseq / MMSA's
// MultiheadAttention after its input projection): per-head softmax(q k^T / sqrt(dh) + mask) with dropout on the
// weights, times v. Phase 7 (execute) runs it inside the model's forward pass.
import * as tf from '@tensorflow/tfjs';
import type { ForwardCtx } from './params.js';
import { nativeBertKernels } from '../backend/bert-kernels.js';

export interface AttentionOptions {
  heads: number;
  /** [Tq * Tk], 1 = masked (the score becomes -inf); undefined = no mask. */
  mask?: Uint8Array | undefined;
  /** Dropout on the attention weights. */
  dropout?: number;
}

const additiveMasks = new WeakMap<Uint8Array, Map<string, tf.Tensor2D>>();

/** The additive mask (0 or -inf) as a [Tq, Tk] tensor, made once per mask array and backend (kept outside any tidy). */
export function additiveMask(mask: Uint8Array, tq: number, tk: number): tf.Tensor2D {
  let byBackend = additiveMasks.get(mask);
  if (!byBackend) additiveMasks.set(mask, (byBackend = new Map()));
  const cached = byBackend.get(tf.getBackend());
  if (cached && !cached.isDisposed) return cached;
  const m = new Float32Array(tq * tk);
  for (let i = 0; i < m.length; i++) if (mask[i]) m[i] = Number.NEGATIVE_INFINITY;
  const t = tf.keep(tf.tensor2d(m, [tq, tk]));
  byBackend.set(tf.getBackend(), t);
  return t;
}

/**
 * softmax(scores + mask) over the last axis, times a dropout mask (given twice: as a tensor and as the host array it
 * was made from): the attention weights. With mmsa's native kernels the backward pass is one native pass over the
 * scores (the BERT layer's softmax gradient) instead of the half-dozen wasm kernels of tf.softmax's gradient and the
 * masks; the forward stays three tensor ops.
 */
export function attentionWeights(scores: tf.Tensor, mask: tf.Tensor | undefined, drop: { tensor: tf.Tensor; host: Float32Array } | undefined): tf.Tensor {
  const op = tf.customGrad(((s: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = tf.softmax(mask ? tf.add(s, mask) : s, -1);
    const y = drop ? tf.mul(p, drop.tensor) : p;
    save(drop ? [p, drop.tensor] : [p]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sp, sd] = saved as [tf.Tensor, tf.Tensor | undefined];
        const nd = nativeBertKernels()?.softmaxBackward(sp, dy, drop?.host, 1);
        if (nd) return [nd];
        const g = sd ? tf.mul(dy, sd) : dy;
        return [tf.mul(sp, tf.sub(g, tf.sum(tf.mul(g, sp), -1, true)))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor>>[0]);
  return op(scores) as tf.Tensor;
}

/**
 * q [B, Tq, d], k and v [B, Tk, d] (already projected) -> [B, Tq, d]. Heads split d as [heads, d / heads], head
 * outermost, as MMSA's `view(T, B * heads, head_dim)`.
 */
export function attentionCore(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, o: AttentionOptions, ctx: ForwardCtx): tf.Tensor3D {
  const [B, Tq, d] = q.shape;
  const Tk = k.shape[1];
  const h = o.heads;
  const dh = d / h;
  const qs = tf.reshape(tf.transpose(tf.reshape(tf.mul(q, dh ** -0.5), [B, Tq, h, dh]), [0, 2, 1, 3]), [B * h, Tq, dh]) as tf.Tensor3D;
  const kT = tf.reshape(tf.transpose(tf.reshape(k, [B, Tk, h, dh]), [0, 2, 3, 1]), [B * h, dh, Tk]) as tf.Tensor3D;
  const vs = tf.reshape(tf.transpose(tf.reshape(v, [B, Tk, h, dh]), [0, 2, 1, 3]), [B * h, Tk, dh]) as tf.Tensor3D;
  const scores = tf.matMul(qs, kT);
  const p = o.dropout ?? 0;
  let drop: { tensor: tf.Tensor; host: Float32Array } | undefined;
  if (ctx.training && p > 0) {
    const host = new Float32Array(scores.size);
    if (p < 1) ctx.rng.fillMask(host, p, 1 / (1 - p));
    drop = { tensor: tf.tensor(host, scores.shape, 'float32'), host };
  }
  const probs = attentionWeights(scores, o.mask ? additiveMask(o.mask, Tq, Tk) : undefined, drop);
  const ctxv = tf.matMul(probs as tf.Tensor3D, vs);
  return tf.reshape(tf.transpose(tf.reshape(ctxv, [B, h, Tq, dh]), [0, 2, 1, 3]), [B, Tq, d]) as tf.Tensor3D;
}
