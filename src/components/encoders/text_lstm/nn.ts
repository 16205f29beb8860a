// TFN/LMF's TextSubNet as a tfjs block: a 1-layer LSTM `rnn` over the whole padded sequence, h_n, Dropout, Linear
// `linear_1`. Phase 6 (lower) builds it; phase 7 runs it.
import type * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, type Linear } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../../../runtime/nn/params.js';
import { createLstm, type LstmImpl, type Rnn } from '../../../runtime/nn/rnn.js';

export interface TextSubNet {
  path: string;
  rnn: Rnn;
  linear1: Linear;
  /** B x T x in -> B x out */
  apply(x: tf.Tensor3D, ctx: ForwardCtx): tf.Tensor2D;
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
): TextSubNet {
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
