// One BERT encoder layer (self-attention + feed-forward, post-LN) as a single differentiable op with a hand-written
// backward pass, so a fine-tuning step holds only what the backward needs. Phase 7 (execute), inside variableGrads.
import * as tf from '@tensorflow/tfjs';
import type { ForwardCtx } from '../params.js';

/**
 * What a layer keeps for its backward pass. 'keep': the activations the gradient formulas read (about 16 floats per
 * token and hidden unit); 'recompute': only the layer input, the forward runs again during the backward (one more
 * forward per step, a twelfth of the memory). Both give the same bits.
 */
export type ActivationMode = 'keep' | 'recompute';

export interface BertLayerWeights {
  qW: tf.Tensor; qB: tf.Tensor; kW: tf.Tensor; kB: tf.Tensor; vW: tf.Tensor; vB: tf.Tensor;
  oW: tf.Tensor; oB: tf.Tensor; ln1W: tf.Tensor; ln1B: tf.Tensor;
  iW: tf.Tensor; iB: tf.Tensor; o2W: tf.Tensor; o2B: tf.Tensor; ln2W: tf.Tensor; ln2B: tf.Tensor;
}

const WEIGHT_ORDER = ['qW', 'qB', 'kW', 'kB', 'vW', 'vB', 'oW', 'oB', 'ln1W', 'ln1B', 'iW', 'iB', 'o2W', 'o2B', 'ln2W', 'ln2B'] as const;

export interface BertLayerShape {
  B: number;
  L: number;
  heads: number;
  eps: number;
  act: 'gelu' | 'gelu_new' | 'relu';
  attentionDropout: number;
  hiddenDropout: number;
}

/** Dropout masks of one call (values 0 or 1/(1-p)), held in JS memory, outside the wasm heap. */
interface Masks {
  probs?: Float32Array;
  attn?: Float32Array;
  out?: Float32Array;
}

const SQRT1_2 = Math.SQRT1_2;

/** Sum over the rows of [N, C] (wasm's Sum over leading axes runs natively when the kernels are loaded). */
function sumRows(t: tf.Tensor): tf.Tensor {
  return tf.sum(t, 0);
}
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function maskArray(n: number, p: number, ctx: ForwardCtx): Float32Array | undefined {
  if (!ctx.training || p <= 0) return undefined;
  const m = new Float32Array(n);
  if (p < 1) ctx.rng.fillMask(m, p, 1 / (1 - p));
  return m;
}

function applyMask(x: tf.Tensor, m: Float32Array | undefined): tf.Tensor {
  return m ? tf.mul(x, tf.tensor(m, x.shape, 'float32')) : x;
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.functional.gelu (BERT's "gelu"). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1));
}

/** The tanh approximation ("gelu_new"). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function activation(kind: BertLayerShape['act'], x: tf.Tensor): tf.Tensor {
  return kind === 'relu' ? tf.relu(x) : kind === 'gelu' ? geluErf(x) : geluTanh(x);
}

/** d act(x) / dx. */
function activationGrad(kind: BertLayerShape['act'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.cast(tf.greater(x, 0), 'float32');
  if (kind === 'gelu') {
    // Phi(x) + x phi(x)
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1), 0.5);
    return tf.add(cdf, tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI)));
  }
  const c = Math.sqrt(2 / Math.PI);
  const t = tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), c));
  const dt = tf.mul(tf.sub(1, tf.square(t)), tf.mul(tf.add(1, tf.mul(tf.square(x), 3 * 0.044715)), c));
  return tf.add(tf.mul(tf.add(t, 1), 0.5), tf.mul(tf.mul(x, 0.5), dt));
}

/** y = x W^T + b for a PyTorch-layout weight [out, in]. */
function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b);
}

/** [B*L, H] -> [B*heads, L, dh] (or its transpose [B*heads, dh, L] with keysT). */
function splitHeads(t: tf.Tensor, s: BertLayerShape, dh: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(t, [s.B, s.L, s.heads, dh]), [0, 2, 1, 3]), [s.B * s.heads, s.L, dh]);
}

function mergeHeads(t: tf.Tensor, s: BertLayerShape, dh: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(t, [s.B, s.heads, s.L, dh]), [0, 2, 1, 3]), [s.B * s.L, s.heads * dh]);
}

interface LayerNormOut {
  y: tf.Tensor;
  xhat: tf.Tensor;
  rstd: tf.Tensor;
}

export function layerNormFwd(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): LayerNormOut {
  const { mean, variance } = tf.moments(x, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(tf.sub(x, mean), rstd);
  return { y: tf.add(tf.mul(xhat, w), b), xhat, rstd };
}

/** Gradients of y = xhat * w + b towards x, w and b. */
function layerNormBwd(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, w: tf.Tensor): { dx: tf.Tensor; dw: tf.Tensor; db: tf.Tensor } {
  const dxhat = tf.mul(dy, w);
  const m1 = tf.mean(dxhat, -1, true);
  const m2 = tf.mean(tf.mul(dxhat, xhat), -1, true);
  const dx = tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(xhat, m2)), rstd);
  return { dx, dw: sumRows(tf.mul(dy, xhat)), db: sumRows(dy) };
}

/** Everything the backward reads, computed by the forward. */
interface Acts {
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  probs: tf.Tensor3D;
  context: tf.Tensor2D;
  h1: tf.Tensor;
  xhat1: tf.Tensor;
  rstd1: tf.Tensor;
  inter: tf.Tensor;
  act: tf.Tensor;
  xhat2: tf.Tensor;
  rstd2: tf.Tensor;
  out: tf.Tensor2D;
}

/** The layer's forward, block by block, each block freeing what the backward does not read. */
function forward(x: tf.Tensor2D, addMask: tf.Tensor, w: BertLayerWeights, s: BertLayerShape, masks: Masks): Acts {
  const H = x.shape[1];
  const dh = H / s.heads;
  const att = tf.tidy(() => {
    const q = splitHeads(dense(x, w.qW, w.qB), s, dh);
    const k = splitHeads(dense(x, w.kW, w.kB), s, dh);
    const v = splitHeads(dense(x, w.vW, w.vB), s, dh);
    const scores = tf.add(tf.reshape(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), [s.B, s.heads, s.L, s.L]), addMask);
    const probs = tf.reshape(tf.softmax(scores, -1), [s.B * s.heads, s.L, s.L]) as tf.Tensor3D;
    const context = mergeHeads(tf.matMul(applyMask(probs, masks.probs) as tf.Tensor3D, v), s, dh);
    return { q, k, v, probs, context };
  });
  const ln1 = tf.tidy(() => {
    const r = layerNormFwd(tf.add(applyMask(dense(att.context, w.oW, w.oB), masks.attn), x), w.ln1W, w.ln1B, s.eps);
    return { h1: r.y, xhat1: r.xhat, rstd1: r.rstd };
  });
  const ffn = tf.tidy(() => {
    const inter = dense(ln1.h1, w.iW, w.iB);
    return { inter, act: activation(s.act, inter) };
  });
  const ln2 = tf.tidy(() => {
    const r = layerNormFwd(tf.add(applyMask(dense(ffn.act, w.o2W, w.o2B), masks.out), ln1.h1), w.ln2W, w.ln2B, s.eps);
    return { out: r.y as tf.Tensor2D, xhat2: r.xhat, rstd2: r.rstd };
  });
  return { ...att, ...ln1, ...ffn, ...ln2 };
}

const SAVED: readonly (keyof Acts)[] = ['q', 'k', 'v', 'probs', 'context', 'h1', 'xhat1', 'rstd1', 'inter', 'act', 'xhat2', 'rstd2'];

/** Weight gradient of y = x W^T (+ b): dW = dy^T x, db = sum of dy's rows. */
function denseGrads(dy: tf.Tensor, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return [tf.matMul(dy as tf.Tensor2D, x as tf.Tensor2D, true, false), sumRows(dy)];
}

/**
 * The layer's backward in three scopes (feed-forward, attention output, self-attention), each freeing its
 * intermediates before the next starts, so the transient memory is one block's, not the layer's.
 */
function backward(dOut: tf.Tensor, x: tf.Tensor2D, a: Omit<Acts, 'out'>, w: BertLayerWeights, s: BertLayerShape, masks: Masks): { dx: tf.Tensor; dw: Record<(typeof WEIGHT_ORDER)[number], tf.Tensor> } {
  const H = x.shape[1];
  const dh = H / s.heads;
  const ffn = tf.tidy(() => {
    const ln2 = layerNormBwd(dOut, a.xhat2, a.rstd2, w.ln2W);
    const dO = applyMask(ln2.dx, masks.out);
    const [o2W, o2B] = denseGrads(dO, a.act);
    const dInter = tf.mul(tf.matMul(dO as tf.Tensor2D, w.o2W as tf.Tensor2D), activationGrad(s.act, a.inter));
    const [iW, iB] = denseGrads(dInter, a.h1);
    const dH1 = tf.add(ln2.dx, tf.matMul(dInter as tf.Tensor2D, w.iW as tf.Tensor2D));
    return { dH1, o2W, o2B, iW, iB, ln2W: ln2.dw, ln2B: ln2.db };
  });
  const out = tf.tidy(() => {
    const ln1 = layerNormBwd(ffn.dH1, a.xhat1, a.rstd1, w.ln1W);
    const dA = applyMask(ln1.dx, masks.attn);
    const [oW, oB] = denseGrads(dA, a.context);
    const dContext = splitHeads(tf.matMul(dA as tf.Tensor2D, w.oW as tf.Tensor2D), s, dh);
    return { dResidual: ln1.dx, dContext, oW, oB, ln1W: ln1.dw, ln1B: ln1.db };
  });
  ffn.dH1.dispose();
  const att = tf.tidy(() => {
    const dV = tf.matMul(applyMask(a.probs, masks.probs) as tf.Tensor3D, out.dContext, true, false);
    const dProbs = applyMask(tf.matMul(out.dContext, a.v, false, true), masks.probs);
    // softmax: ds = p * (dp - sum(dp * p)), then the 1/sqrt(dh) scale of the scores
    const dScores = tf.mul(tf.mul(a.probs, tf.sub(dProbs, tf.sum(tf.mul(dProbs, a.probs), -1, true))), 1 / Math.sqrt(dh)) as tf.Tensor3D;
    const dQ = mergeHeads(tf.matMul(dScores, a.k), s, dh);
    const dK = mergeHeads(tf.matMul(dScores, a.q, true, false), s, dh);
    const dVm = mergeHeads(dV, s, dh);
    const [qW, qB] = denseGrads(dQ, x);
    const [kW, kB] = denseGrads(dK, x);
    const [vW, vB] = denseGrads(dVm, x);
    const dx = tf.addN([out.dResidual, tf.matMul(dQ, w.qW as tf.Tensor2D), tf.matMul(dK, w.kW as tf.Tensor2D), tf.matMul(dVm, w.vW as tf.Tensor2D)]);
    return { dx, qW, qB, kW, kB, vW, vB };
  });
  out.dResidual.dispose();
  out.dContext.dispose();
  const { dx, ...attW } = att;
  return {
    dx,
    dw: { ...attW, oW: out.oW, oB: out.oB, ln1W: out.ln1W, ln1B: out.ln1B, iW: ffn.iW, iB: ffn.iB, o2W: ffn.o2W, o2B: ffn.o2B, ln2W: ffn.ln2W, ln2B: ffn.ln2B },
  };
}

/**
 * One encoder layer over x [B*L, H] with the additive key mask [B, 1, 1, L]. Dropout masks come from ctx.rng in the
 * order the op-by-op layer draws them (attention probabilities, attention output, feed-forward output). Under
 * tf.variableGrads the layer is one tape entry: its intermediates are freed when it returns, and its backward keeps
 * what `mode` says.
 */
export function bertLayer(x: tf.Tensor2D, addMask: tf.Tensor, w: BertLayerWeights, s: BertLayerShape, ctx: ForwardCtx, mode: ActivationMode = 'keep'): tf.Tensor2D {
  const H = x.shape[1];
  const masks: Masks = {
    probs: maskArray(s.B * s.heads * s.L * s.L, s.attentionDropout, ctx),
    attn: maskArray(s.B * s.L * H, s.hiddenDropout, ctx),
    out: maskArray(s.B * s.L * H, s.hiddenDropout, ctx),
  };
  const weights = WEIGHT_ORDER.map((n) => w[n]);
  const op = tf.customGrad((...args: unknown[]) => {
    const xIn = args[0] as tf.Tensor2D;
    const maskIn = args[1] as tf.Tensor;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const acts = forward(xIn, maskIn, w, s, masks);
    save(mode === 'keep' ? [xIn, maskIn, ...SAVED.map((k) => acts[k])] : [xIn, maskIn]);
    return {
      value: acts.out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const xs = saved[0] as tf.Tensor2D;
          let a: Omit<Acts, 'out'>;
          if (mode === 'keep') {
            const t = Object.fromEntries(SAVED.map((k, i) => [k, saved[i + 2]!]));
            a = t as unknown as Omit<Acts, 'out'>;
          } else {
            // Only what the backward reads survives the recomputation's scope.
            a = tf.tidy(() => {
              const { out, ...keep } = forward(xs, saved[1]!, w, s, masks);
              return keep;
            }) as Omit<Acts, 'out'>;
          }
          const { dx, dw } = backward(dy as tf.Tensor, xs, a, w, s, masks);
          return [dx, tf.zerosLike(saved[1]!), ...WEIGHT_ORDER.map((n) => dw[n])];
        }),
    };
  });
  return op(x, addMask, ...weights) as tf.Tensor2D;
}
