// One BERT encoder layer (self-attention + feed-forward, post-LN) as a single differentiable op with a hand-written
// backward pass, so a fine-tuning step holds only what the backward needs. Phase 7 (execute), inside variableGrads.
import * as tf from '@tensorflow/tfjs';
import { nativeBertKernels, type BertNativeKernels } from '../../backend/bert-kernels.js';
import type { ForwardCtx } from '../params.js';
import type { ActivationMode } from '../../../components/component.js';

// What a layer keeps for its backward pass (the component contract names it, for the memory plan). 'keep': the
// activations the gradient formulas read (about 16 floats per token and hidden unit); 'recompute': only the layer
// input, the forward runs again during the backward (one more forward per step, a twelfth of the memory). Both give
// the same bits.
export type { ActivationMode };

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

/** Sum over the rows of [N, C] (wasm's Sum over leading axes runs natively when the kernels are loaded). */
function sumRows(t: tf.Tensor): tf.Tensor {
  return tf.sum(t, 0);
}

/** x W^T for a PyTorch-layout weight [out, in] (the bias is added by the fused step that follows). */
function project(x: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true);
}

/** [B*L, H] -> [B*heads, L, dh]. */
function splitHeads(t: tf.Tensor, s: BertLayerShape, dh: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(t, [s.B, s.L, s.heads, dh]), [0, 2, 1, 3]), [s.B * s.heads, s.L, dh]);
}

function mergeHeads(t: tf.Tensor, s: BertLayerShape, dh: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(t, [s.B, s.heads, s.L, dh]), [0, 2, 1, 3]), [s.B * s.L, s.heads * dh]);
}

export interface LayerNormOut {
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

/**
 * The layer's fused steps: each is one native kernel when mmsa's native kernels back the wasm backend, else the same
 * maths in tfjs ops (the two agree to float32 rounding; a run records which one it used).
 */
interface Steps {
  /** probs = softmax(scores * scale + addMask), dropped = probs * mask. */
  softmax(scores: tf.Tensor3D, addMask: tf.Tensor, s: BertLayerShape, scale: number, mask: Float32Array | undefined): { probs: tf.Tensor3D; dropped: tf.Tensor3D };
  /** LayerNorm((a + bias) * mask + residual). */
  addNorm(a: tf.Tensor, bias: tf.Tensor, mask: Float32Array | undefined, residual: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): LayerNormOut;
  /** inter = raw + bias, act = activation(inter). */
  biasAct(raw: tf.Tensor, bias: tf.Tensor, kind: BertLayerShape['act']): { inter: tf.Tensor; act: tf.Tensor };
  softmaxBwd(probs: tf.Tensor, dDropped: tf.Tensor, mask: Float32Array | undefined, scale: number): tf.Tensor3D;
  /** Backward of addNorm: towards the residual (dx), towards a (dmasked), and the gamma, beta and bias gradients. */
  addNormBwd(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor, mask: Float32Array | undefined): { dx: tf.Tensor; dmasked: tf.Tensor; dgamma: tf.Tensor; dbeta: tf.Tensor; dbias: tf.Tensor };
  actBwd(dAct: tf.Tensor, inter: tf.Tensor, kind: BertLayerShape['act']): tf.Tensor;
  dropped(probs: tf.Tensor3D, mask: Float32Array | undefined): tf.Tensor3D;
}

const opSteps: Steps = {
  softmax(scores, addMask, s, scale, mask) {
    const logits = tf.add(tf.reshape(tf.mul(scores, scale), [s.B, s.heads, s.L, s.L]), addMask);
    const probs = tf.reshape(tf.softmax(logits, -1), [s.B * s.heads, s.L, s.L]) as tf.Tensor3D;
    return { probs, dropped: applyMask(probs, mask) as tf.Tensor3D };
  },
  addNorm(a, bias, mask, residual, gamma, beta, eps) {
    return layerNormFwd(tf.add(applyMask(tf.add(a, bias), mask), residual), gamma, beta, eps);
  },
  biasAct(raw, bias, kind) {
    const inter = tf.add(raw, bias);
    return { inter, act: activation(kind, inter) };
  },
  softmaxBwd(probs, dDropped, mask, scale) {
    const dp = applyMask(dDropped, mask);
    return tf.mul(tf.mul(probs, tf.sub(dp, tf.sum(tf.mul(dp, probs), -1, true))), scale) as tf.Tensor3D;
  },
  addNormBwd(dy, xhat, rstd, gamma, mask) {
    const dxhat = tf.mul(dy, gamma);
    const m1 = tf.mean(dxhat, -1, true);
    const m2 = tf.mean(tf.mul(dxhat, xhat), -1, true);
    const dx = tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(xhat, m2)), rstd);
    const dmasked = applyMask(dx, mask);
    return { dx, dmasked, dgamma: sumRows(tf.mul(dy, xhat)), dbeta: sumRows(dy), dbias: sumRows(dmasked) };
  },
  actBwd(dAct, inter, kind) {
    return tf.mul(dAct, activationGrad(kind, inter));
  },
  dropped(probs, mask) {
    return applyMask(probs, mask) as tf.Tensor3D;
  },
};

function nativeSteps(k: BertNativeKernels): Steps {
  return {
    softmax(scores, addMask, s, scale, mask) {
      const { p, dropped } = k.softmaxForward(scores, addMask, s.heads, scale, mask);
      return { probs: p as tf.Tensor3D, dropped: dropped as tf.Tensor3D };
    },
    addNorm: (a, bias, mask, residual, gamma, beta, eps) => k.layerNormForward(a, bias, mask, residual, gamma, beta, eps),
    biasAct(raw, bias, kind) {
      if (kind !== 'gelu') return opSteps.biasAct(raw, bias, kind);
      const { pre, act } = k.biasGelu(raw, bias);
      return { inter: pre, act };
    },
    softmaxBwd: (probs, dDropped, mask, scale) => k.softmaxBackward(probs, dDropped, mask, scale) as tf.Tensor3D,
    addNormBwd: (dy, xhat, rstd, gamma, mask) => k.layerNormBackward(dy, xhat, rstd, gamma, mask),
    actBwd: (dAct, inter, kind) => (kind === 'gelu' ? k.geluBackward(dAct, inter) : opSteps.actBwd(dAct, inter, kind)),
    dropped: (probs, mask) => (mask ? (k.mulMask(probs, mask) as tf.Tensor3D) : probs),
  };
}

function currentSteps(): Steps {
  const k = nativeBertKernels();
  return k ? nativeSteps(k) : opSteps;
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
function forward(x: tf.Tensor2D, addMask: tf.Tensor, w: BertLayerWeights, s: BertLayerShape, masks: Masks, st: Steps): Acts {
  const H = x.shape[1];
  const dh = H / s.heads;
  const scale = 1 / Math.sqrt(dh);
  const att = tf.tidy(() => {
    const q = splitHeads(tf.add(project(x, w.qW), w.qB), s, dh);
    const k = splitHeads(tf.add(project(x, w.kW), w.kB), s, dh);
    const v = splitHeads(tf.add(project(x, w.vW), w.vB), s, dh);
    const { probs, dropped } = st.softmax(tf.matMul(q, k, false, true), addMask, s, scale, masks.probs);
    const context = mergeHeads(tf.matMul(dropped, v), s, dh);
    return { q, k, v, probs, context };
  });
  const ln1 = tf.tidy(() => {
    const r = st.addNorm(project(att.context, w.oW), w.oB, masks.attn, x, w.ln1W, w.ln1B, s.eps);
    return { h1: r.y, xhat1: r.xhat, rstd1: r.rstd };
  });
  const ffn = tf.tidy(() => st.biasAct(project(ln1.h1, w.iW), w.iB, s.act));
  const ln2 = tf.tidy(() => {
    const r = st.addNorm(project(ffn.act, w.o2W), w.o2B, masks.out, ln1.h1, w.ln2W, w.ln2B, s.eps);
    return { out: r.y as tf.Tensor2D, xhat2: r.xhat, rstd2: r.rstd };
  });
  return { ...att, ...ln1, ...ffn, ...ln2 };
}

const SAVED: readonly (keyof Acts)[] = ['q', 'k', 'v', 'probs', 'context', 'h1', 'xhat1', 'rstd1', 'inter', 'act', 'xhat2', 'rstd2'];

/** Weight gradient of y = x W^T: dW = dy^T x. */
function weightGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.matMul(dy as tf.Tensor2D, x as tf.Tensor2D, true, false);
}

type WeightGrads = Record<(typeof WEIGHT_ORDER)[number], tf.Tensor>;

/**
 * The layer's backward in three scopes (feed-forward, attention output, self-attention), each freeing its
 * intermediates before the next starts, so the transient memory is one block's, not the layer's.
 */
function backward(dOut: tf.Tensor, x: tf.Tensor2D, a: Omit<Acts, 'out'>, w: BertLayerWeights, s: BertLayerShape, masks: Masks, st: Steps): { dx: tf.Tensor; dw: WeightGrads } {
  const H = x.shape[1];
  const dh = H / s.heads;
  const scale = 1 / Math.sqrt(dh);
  const ffn = tf.tidy(() => {
    const ln2 = st.addNormBwd(dOut, a.xhat2, a.rstd2, w.ln2W, masks.out);
    const dInter = st.actBwd(tf.matMul(ln2.dmasked as tf.Tensor2D, w.o2W as tf.Tensor2D), a.inter, s.act);
    const dH1 = tf.add(ln2.dx, tf.matMul(dInter as tf.Tensor2D, w.iW as tf.Tensor2D));
    return { dH1, o2W: weightGrad(ln2.dmasked, a.act), o2B: ln2.dbias, iW: weightGrad(dInter, a.h1), iB: sumRows(dInter), ln2W: ln2.dgamma, ln2B: ln2.dbeta };
  });
  const out = tf.tidy(() => {
    const ln1 = st.addNormBwd(ffn.dH1, a.xhat1, a.rstd1, w.ln1W, masks.attn);
    const dContext = splitHeads(tf.matMul(ln1.dmasked as tf.Tensor2D, w.oW as tf.Tensor2D), s, dh);
    return { dResidual: ln1.dx, dContext, oW: weightGrad(ln1.dmasked, a.context), oB: ln1.dbias, ln1W: ln1.dgamma, ln1B: ln1.dbeta };
  });
  ffn.dH1.dispose();
  const att = tf.tidy(() => {
    const dV = tf.matMul(st.dropped(a.probs, masks.probs), out.dContext, true, false);
    const dScores = st.softmaxBwd(a.probs, tf.matMul(out.dContext, a.v, false, true), masks.probs, scale);
    const dQ = mergeHeads(tf.matMul(dScores, a.k), s, dh);
    const dK = mergeHeads(tf.matMul(dScores, a.q, true, false), s, dh);
    const dVm = mergeHeads(dV, s, dh);
    const dx = tf.addN([out.dResidual, tf.matMul(dQ, w.qW as tf.Tensor2D), tf.matMul(dK, w.kW as tf.Tensor2D), tf.matMul(dVm, w.vW as tf.Tensor2D)]);
    return { dx, qW: weightGrad(dQ, x), qB: sumRows(dQ), kW: weightGrad(dK, x), kB: sumRows(dK), vW: weightGrad(dVm, x), vB: sumRows(dVm) };
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
  const st = currentSteps();
  const weights = WEIGHT_ORDER.map((n) => w[n]);
  const op = tf.customGrad((...args: unknown[]) => {
    const xIn = args[0] as tf.Tensor2D;
    const maskIn = args[1] as tf.Tensor;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const acts = forward(xIn, maskIn, w, s, masks, st);
    save(mode === 'keep' ? [xIn, maskIn, ...SAVED.map((k) => acts[k])] : [xIn, maskIn]);
    return {
      value: acts.out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const xs = saved[0] as tf.Tensor2D;
          let a: Omit<Acts, 'out'>;
          if (mode === 'keep') {
            a = Object.fromEntries(SAVED.map((k, i) => [k, saved[i + 2]!])) as unknown as Omit<Acts, 'out'>;
          } else {
            // Only what the backward reads survives the recomputation's scope.
            a = tf.tidy(() => {
              const { out: _out, ...keep } = forward(xs, saved[1]!, w, s, masks, st);
              return keep;
            }) as Omit<Acts, 'out'>;
          }
          const { dx, dw } = backward(dy as tf.Tensor, xs, a, w, s, masks, st);
          return [dx, tf.zerosLike(saved[1]!), ...WEIGHT_ORDER.map((n) => dw[n])];
        }),
    };
  });
  return op(x, addMask, ...weights) as tf.Tensor2D;
}
