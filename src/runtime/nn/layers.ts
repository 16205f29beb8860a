// Basic layers over ParamStore variables with PyTorch semantics: Linear, Dropout, activations, BatchNorm1d, LayerNorm.
// Phase 6 (lower) creates them; their apply() runs in phase 7 inside tf.variableGrads / tf.tidy.
import * as tf from '@tensorflow/tfjs';
import { linearInit, onesInit, zerosInit, type Initializer } from './init.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { isNativeMatMulActive } from '../backend.js';

export interface Linear {
  path: string;
  inFeatures: number;
  outFeatures: number;
  /** PyTorch layout [out, in]. */
  weight: tf.Variable;
  bias: tf.Variable | undefined;
  apply(x: tf.Tensor): tf.Tensor;
}

export interface LinearOptions {
  bias?: boolean;
  weightInit?: Initializer;
  biasInit?: Initializer;
}

/** nn.Linear: y = x W^T + b over the last axis (any leading shape). */
export function createLinear(store: ParamStore, path: string, inFeatures: number, outFeatures: number, opts: LinearOptions = {}): Linear {
  const weight = store.param(path, 'weight', [outFeatures, inFeatures], opts.weightInit ?? linearInit(inFeatures));
  const bias = opts.bias === false ? undefined : store.param(path, 'bias', [outFeatures], opts.biasInit ?? linearInit(inFeatures));
  return {
    path,
    inFeatures,
    outFeatures,
    weight,
    bias,
    apply: (x) => linear(x, weight, bias),
  };
}

/** Functional linear with a PyTorch-layout weight [out, in]. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inF = weight.shape[1]!;
  const outF = weight.shape[0]!;
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  let y: tf.Tensor = useWideLinear(x2.shape[0], inF, outF) ? wideLinear(x2, weight as tf.Tensor2D) : tf.matMul(x2, weight as tf.Tensor2D, false, true);
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
}

/**
 * x W^T on wasm materialises W^T (the matMul patch, deps.md 1.4) and XNNPACK packs it again on every call: for a
 * weight far larger than the batch (TFN's Linear(140481 -> 64) at B = 32) that is most of the time. Computing
 * (W x^T)^T instead transposes and packs only x. Used when the batch is smaller than the output width and the
 * weight is large; on the cpu backend and with the native GEMM transposed operands cost nothing extra.
 */
const WIDE_LINEAR_MIN_WEIGHT = 1 << 20;
export function useWideLinear(rows: number, inF: number, outF: number): boolean {
  return rows < outF && inF * outF >= WIDE_LINEAR_MIN_WEIGHT && tf.getBackend() === 'wasm' && !isNativeMatMulActive();
}

/** x W^T as (W x^T)^T, with the gradients in their transpose-free forms dx = dy W, dW = dy^T x. */
export function wideLinear(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  const fwd = (a: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D => tf.transpose(tf.matMul(w, tf.transpose(a)));
  if (!tf.engine().isTapeOn()) return tf.tidy(() => fwd(x, weight));
  // The inputs go through save(): callers may dispose x (a tidy around the forward) before the backward pass runs.
  const op = tf.customGrad(((a: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([a, w]);
    return {
      value: fwd(a, w),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, sw), tf.matMul(dy, sa, true, false)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor2D>>[0]);
  return op(x, weight) as tf.Tensor2D;
}

/**
 * Inverted dropout (scale kept units by 1/(1-p)). The mask comes from ctx.rng so a run is reproducible and
 * independent of tfjs' own random streams. Identity in eval mode or when p = 0.
 */
export function dropout(x: tf.Tensor, p: number, ctx: ForwardCtx): tf.Tensor {
  if (!ctx.training || p <= 0) return x;
  if (p >= 1) return tf.zerosLike(x);
  return tf.mul(x, dropoutMask(x.shape, p, ctx));
}

/** The mask dropout() would multiply by (values 0 or 1/(1-p)). */
export function dropoutMask(shape: readonly number[], p: number, ctx: ForwardCtx): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const scale = 1 / (1 - p);
  const mask = new Float32Array(n);
  ctx.rng.fillMask(mask, p, scale);
  return tf.tensor(mask, [...shape], 'float32');
}

export const relu = (x: tf.Tensor): tf.Tensor => tf.relu(x);
export const tanh = (x: tf.Tensor): tf.Tensor => tf.tanh(x);
export const sigmoid = (x: tf.Tensor): tf.Tensor => tf.sigmoid(x);

export interface BatchNorm {
  path: string;
  numFeatures: number;
  weight: tf.Variable;
  bias: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  numBatchesTracked: tf.Variable;
  apply(x: tf.Tensor, ctx: ForwardCtx): tf.Tensor;
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
}

/**
 * nn.BatchNorm1d(C): channels are axis 1 of a B x C or B x C x L input; statistics are over every other axis.
 * EF_LSTM applies BatchNorm1d(L) to a B x L x D tensor, i.e. time steps are the channels: the same call covers it.
 * Train: normalise with the biased batch variance, update running stats with the unbiased one (momentum 0.1).
 * The running-stat update happens as a side effect of apply(); it is not part of the gradient.
 */
export function createBatchNorm1d(store: ParamStore, path: string, numFeatures: number, opts: BatchNormOptions = {}): BatchNorm {
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? 0.1;
  const weight = store.param(path, 'weight', [numFeatures], onesInit);
  const bias = store.param(path, 'bias', [numFeatures], zerosInit);
  const runningMean = store.buffer(path, 'running_mean', [numFeatures], zerosInit);
  const runningVar = store.buffer(path, 'running_var', [numFeatures], onesInit);
  const numBatchesTracked = store.buffer(path, 'num_batches_tracked', [], zerosInit);
  const apply = (x: tf.Tensor, ctx: ForwardCtx): tf.Tensor => {
    if (x.rank < 2 || x.shape[1] !== numFeatures) {
      throw new Error(`${path}: BatchNorm1d(${numFeatures}) expects B x ${numFeatures} (x L), got [${x.shape.join(', ')}]`);
    }
    const reduceAxes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (ctx.training) {
      const m = tf.moments(x, reduceAxes);
      mean = m.mean;
      variance = m.variance;
      const n = x.size / numFeatures;
      const unbiasedFactor = n > 1 ? n / (n - 1) : 1;
      tf.tidy(() => {
        // Not on the loss path, so no gradient flows through these even inside variableGrads.
        const mDet = mean;
        const vDet = variance;
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(mDet, momentum)));
        runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(vDet, momentum * unbiasedFactor)));
        numBatchesTracked.assign(tf.add(numBatchesTracked, 1));
      });
    } else {
      mean = runningMean;
      variance = runningVar;
    }
    const inv = tf.rsqrt(tf.add(variance, eps));
    const scale = tf.reshape(tf.mul(inv, weight), bshape);
    const shift = tf.reshape(tf.sub(bias, tf.mul(tf.mul(mean, inv), weight)), bshape);
    return tf.add(tf.mul(x, scale), shift);
  };
  return { path, numFeatures, weight, bias, runningMean, runningVar, numBatchesTracked, apply };
}

export interface LayerNorm {
  path: string;
  weight: tf.Variable;
  bias: tf.Variable;
  apply(x: tf.Tensor): tf.Tensor;
}

/** nn.LayerNorm over the last axis (biased variance), eps default 1e-5 (BERT uses 1e-12). */
export function createLayerNorm(store: ParamStore, path: string, size: number, opts: { eps?: number } = {}): LayerNorm {
  const eps = opts.eps ?? 1e-5;
  const weight = store.param(path, 'weight', [size], onesInit);
  const bias = store.param(path, 'bias', [size], zerosInit);
  return {
    path,
    weight,
    bias,
    apply: (x) => layerNorm(x, weight, bias, eps),
  };
}

/** LayerNorm over the last axis with the given weights (tensor ops, taped one by one). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** Sequential helper for naming children: child(path, 'linear_1') = 'path.linear_1'. */
export function child(path: string, name: string): string {
  return joinPath(path, name);
}

/** Prepend a constant-1 column: [1; x] (B x d -> B x (d+1)), as TFN and LMF do. */
export function prependOne(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([tf.ones([x.shape[0], 1]), x], 1) as tf.Tensor2D;
}
