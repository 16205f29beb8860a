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
  /** What the backward pass keeps (default 'keep'). */
  activations?: AttentionActivations;
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

/** What the attention keeps for its backward pass: its weights ('keep') or only q, k and v ('recompute'). */
export type AttentionActivations = 'keep' | 'recompute';

/**
 * The attention of one layer as one differentiable op over qs [B*h, Tq, dh] (already scaled), kT [B*h, dh, Tk] and
 * vs [B*h, Tk, dh]: softmax(qs kT + mask) times a dropout mask (given twice: as a tensor and as the host array it was
 * made from), times vs. Its forward's intermediates (scores, weights, dropped weights) are freed when it returns: the
 * backward keeps the weights ('keep') or recomputes them from q and k ('recompute'), which is what lets MulT's
 * B x heads x Tq x Tk weights of every layer stay out of the heap until the backward pass. Both modes give the same
 * bits: the recomputation runs the forward's ops on the same inputs, and the gradients are the ops tfjs's autodiff
 * would run (matMul's and softmax's gradient formulas); with mmsa's native kernels the masked softmax with its dropout
 * and the softmax gradient are one native pass each (the BERT layer's kernels).
 */
export function attentionOp(
  qs: tf.Tensor3D,
  kT: tf.Tensor3D,
  vs: tf.Tensor3D,
  mask: tf.Tensor | undefined,
  drop: { host: Float32Array } | undefined,
  mode: AttentionActivations,
): tf.Tensor3D {
  // With mmsa's native kernels the mask, softmax and dropout are one pass over the scores (and the dropout mask is
  // read from JS memory where it lies); else three tensor ops.
  const nk = nativeBertKernels();
  const dropTensor = (shape: number[]): tf.Tensor | undefined => (drop ? tf.tensor(drop.host, shape, 'float32') : undefined);
  /** The weights p and the dropped weights y = p * dropout mask. */
  const weights = (q: tf.Tensor, k: tf.Tensor): { p: tf.Tensor; y: tf.Tensor } => {
    const s = tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D);
    if (nk) {
      const { p, dropped } = nk.softmaxForwardRows(s, mask, 1, drop?.host);
      return { p, y: dropped };
    }
    const p = tf.softmax(mask ? tf.add(s, mask) : s, -1);
    const d = dropTensor(p.shape);
    return { p, y: d ? tf.mul(p, d) : p };
  };
  const dropped = (p: tf.Tensor): tf.Tensor => {
    if (!drop) return p;
    return nk ? nk.mulMask(p, drop.host) : tf.mul(p, dropTensor(p.shape)!);
  };
  const op = tf.customGrad(((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
    const { p, y } = weights(q, k);
    save(mode === 'keep' ? [q, k, v, p] : [q, k, v]);
    return {
      value: tf.matMul(y as tf.Tensor3D, v as tf.Tensor3D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sq, sk, sv] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
          const { p: sp, y: sy } = mode === 'keep' ? { p: saved[3]!, y: dropped(saved[3]!) } : weights(sq, sk);
          // matMul's gradient (tfjs's formulas): towards the dropped weights and towards v.
          const dY = tf.matMul(dy as tf.Tensor3D, sv, false, true);
          const dv = tf.matMul(sy as tf.Tensor3D, dy as tf.Tensor3D, true, false);
          let ds: tf.Tensor;
          if (nk) ds = nk.softmaxBackward(sp, dY, drop?.host, 1);
          else {
            const g = drop ? tf.mul(dY, dropTensor(sp.shape)!) : dY;
            ds = tf.mul(sp, tf.sub(g, tf.sum(tf.mul(g, sp), -1, true)));
          }
          const dq = tf.matMul(ds as tf.Tensor3D, sk, false, true);
          const dk = tf.matMul(sq, ds as tf.Tensor3D, true, false);
          return [dq, dk, dv];
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor>>[0]);
  return op(qs, kT, vs) as tf.Tensor3D;
}

/** The dropout mask of n attention weights (values 0 or 1/(1-p)), in JS memory; undefined when nothing drops. */
export type AttentionDropout = { host: Float32Array } | undefined;

/** Draws the dropout mask of n attention weights from ctx.rng. */
export function drawAttentionDropout(n: number, p: number, ctx: ForwardCtx): AttentionDropout {
  if (!ctx.training || p <= 0) return undefined;
  const host = new Float32Array(n);
  if (p < 1) ctx.rng.fillMask(host, p, 1 / (1 - p));
  return { host };
}

/**
 * q [B, Tq, d], k and v [B, Tk, d] (already projected) -> [B, Tq, d]. Heads split d as [heads, d / heads], head
 * outermost, as MMSA's `view(T, B * heads, head_dim)`. Draws the weights' dropout mask from ctx.rng.
 */
export function attentionCore(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, o: AttentionOptions, ctx: ForwardCtx): tf.Tensor3D {
  const [B, Tq] = q.shape;
  return attentionWithDropout(q, k, v, o, drawAttentionDropout(B * o.heads * Tq * k.shape[1], o.dropout ?? 0, ctx));
}

/** attentionCore with the dropout mask drawn before, so that a layer recomputed in the backward drops the same weights. */
export function attentionWithDropout(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, o: AttentionOptions, drop: AttentionDropout): tf.Tensor3D {
  const [B, Tq, d] = q.shape;
  const Tk = k.shape[1];
  const h = o.heads;
  const dh = d / h;
  const qs = tf.reshape(tf.transpose(tf.reshape(tf.mul(q, dh ** -0.5), [B, Tq, h, dh]), [0, 2, 1, 3]), [B * h, Tq, dh]) as tf.Tensor3D;
  const kT = tf.reshape(tf.transpose(tf.reshape(k, [B, Tk, h, dh]), [0, 2, 3, 1]), [B * h, dh, Tk]) as tf.Tensor3D;
  const vs = tf.reshape(tf.transpose(tf.reshape(v, [B, Tk, h, dh]), [0, 2, 1, 3]), [B * h, Tk, dh]) as tf.Tensor3D;
  const ctxv = attentionOp(qs, kT, vs, o.mask ? additiveMask(o.mask, Tq, Tk) : undefined, drop, o.activations ?? 'keep');
  return tf.reshape(tf.transpose(tf.reshape(ctxv, [B, h, Tq, dh]), [0, 2, 1, 3]), [B, Tq, d]) as tf.Tensor3D;
}
