// Self-MM's AuViSubNet (`models/multiTask/SELF_MM.py`) and MLP head as stand-alone blocks with PyTorch's child names,
// so state_dict keys line up (the lowerings build the same layers from the spec). Phase 6 builds them, phase 7 runs them.
import * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, type Linear } from './layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from './params.js';
import { createLstm, type LstmImpl, type Rnn } from './rnn.js';

export interface SeqSubNet {
  path: string;
  rnn: Rnn;
  linear1: Linear;
  /** B x T x in (+ lengths for AuViSubNet) -> B x out */
  apply(x: tf.Tensor3D, ctx: ForwardCtx, lengths?: ArrayLike<number>): tf.Tensor2D;
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
