// MMSA's shared sub-networks (`models/subNets/FeatureNets.py`, AuViSubNet of `models/multiTask/SELF_MM.py`): SubNet, TextSubNet, AuViSubNet and the Self-MM style MLP head.
// Phase 6 (lower) builds them with PyTorch's child names so state_dict keys line up; phase 7 runs them.
import * as tf from '@tensorflow/tfjs';
import { createBatchNorm1d, createLinear, dropout, type BatchNorm, type Linear } from './layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { createLstm, type LstmImpl, type Rnn } from './rnn.js';

export interface SubNet {
  path: string;
  norm: BatchNorm;
  linear1: Linear;
  linear2: Linear;
  linear3: Linear;
  /** B x in -> B x hidden */
  apply(x: tf.Tensor2D, ctx: ForwardCtx): tf.Tensor2D;
}

/** SubNet(in, hidden, p): BatchNorm1d -> Dropout -> (Linear -> ReLU) x 3. Keys: norm.*, linear_1..3.* */
export function createSubNet(store: ParamStore, path: string, inSize: number, hidden: number, p: number): SubNet {
  const norm = createBatchNorm1d(store, joinPath(path, 'norm'), inSize);
  const linear1 = createLinear(store, joinPath(path, 'linear_1'), inSize, hidden);
  const linear2 = createLinear(store, joinPath(path, 'linear_2'), hidden, hidden);
  const linear3 = createLinear(store, joinPath(path, 'linear_3'), hidden, hidden);
  return {
    path,
    norm,
    linear1,
    linear2,
    linear3,
    apply: (x, ctx) => {
      let y = dropout(norm.apply(x, ctx), p, ctx);
      y = tf.relu(linear1.apply(y));
      y = tf.relu(linear2.apply(y));
      return tf.relu(linear3.apply(y)) as tf.Tensor2D;
    },
  };
}

export interface SeqSubNet {
  path: string;
  rnn: Rnn;
  linear1: Linear;
  /** B x T x in (+ lengths for AuViSubNet) -> B x out */
  apply(x: tf.Tensor3D, ctx: ForwardCtx, lengths?: ArrayLike<number>): tf.Tensor2D;
}

/**
 * TextSubNet(in, hidden, out, p): 1-layer LSTM over the whole padded sequence (no packing), h_n -> Dropout -> Linear.
 * The reference constructs nn.Dropout with p forced to 0 when num_layers = 1; `forcedZeroDropout` (default true)
 * keeps that; pass false to apply the configured p (the "fix").
 */
export function createTextSubNet(
  store: ParamStore,
  path: string,
  inSize: number,
  hidden: number,
  out: number,
  p: number,
  opts: { forcedZeroDropout?: boolean; impl?: LstmImpl } = {},
): SeqSubNet {
  const rnn = createLstm(store, joinPath(path, 'rnn'), { inputSize: inSize, hiddenSize: hidden, numLayers: 1, ...(opts.impl ? { impl: opts.impl } : {}) });
  const linear1 = createLinear(store, joinPath(path, 'linear_1'), hidden, out);
  const pEff = opts.forcedZeroDropout === false ? p : 0;
  return {
    path,
    rnn,
    linear1,
    apply: (x, ctx) => linear1.apply(dropout(rnn.apply(x, ctx).last, pEff, ctx)) as tf.Tensor2D,
  };
}

/**
 * AuViSubNet (Self-MM): LSTM(in -> hidden, layers, inter-layer dropout p) on the packed sequence (true lengths),
 * h_n of the last layer -> Dropout(p) -> Linear(hidden -> out).
 */
export function createAuViSubNet(
  store: ParamStore,
  path: string,
  inSize: number,
  hidden: number,
  out: number,
  opts: { numLayers?: number; dropout?: number; bidirectional?: boolean; impl?: LstmImpl } = {},
): SeqSubNet {
  const p = opts.dropout ?? 0;
  const rnn = createLstm(store, joinPath(path, 'rnn'), {
    inputSize: inSize,
    hiddenSize: hidden,
    numLayers: opts.numLayers ?? 1,
    dropout: p,
    bidirectional: opts.bidirectional ?? false,
    ...(opts.impl ? { impl: opts.impl } : {}),
  });
  const linear1 = createLinear(store, joinPath(path, 'linear_1'), hidden, out);
  return {
    path,
    rnn,
    linear1,
    apply: (x, ctx, lengths) => {
      const r = rnn.apply(x, ctx, lengths ? { lengths } : {});
      return linear1.apply(dropout(r.last, p, ctx)) as tf.Tensor2D;
    },
  };
}

export interface MlpHead {
  path: string;
  layer1: Linear;
  layer2: Linear;
  layer3: Linear;
  /** output B x outDim, feature = ReLU(Linear1(Dropout(x))) (Self-MM's Feature_m for ULGM) */
  apply(x: tf.Tensor2D, ctx: ForwardCtx): { output: tf.Tensor2D; feature: tf.Tensor2D };
}

/**
 * Head "Dropout -> Linear -> ReLU -> Linear -> ReLU -> Linear(-> out)". Self-MM names the layers
 * post_fusion_layer_1..3 at model level; here the child names are configurable (default layer_1..3).
 */
export function createMlpHead(
  store: ParamStore,
  path: string,
  inSize: number,
  hidden: number,
  p: number,
  opts: { outDim?: number; names?: [string, string, string] } = {},
): MlpHead {
  const names = opts.names ?? ['layer_1', 'layer_2', 'layer_3'];
  const layer1 = createLinear(store, joinPath(path, names[0]), inSize, hidden);
  const layer2 = createLinear(store, joinPath(path, names[1]), hidden, hidden);
  const layer3 = createLinear(store, joinPath(path, names[2]), hidden, opts.outDim ?? 1);
  return {
    path,
    layer1,
    layer2,
    layer3,
    apply: (x, ctx) => {
      const feature = tf.relu(layer1.apply(dropout(x, p, ctx))) as tf.Tensor2D;
      const h2 = tf.relu(layer2.apply(feature));
      return { output: layer3.apply(h2) as tf.Tensor2D, feature };
    },
  };
}
