// TFN/LMF's SubNet as a tfjs block: BatchNorm1d -> Dropout -> (Linear -> ReLU) x 3 with PyTorch's child names
// (`norm`, `linear_1..3`). Phase 6 (lower) builds it; phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { createBatchNorm1d, createLinear, dropout, type BatchNorm, type Linear } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../../../runtime/nn/params.js';

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
