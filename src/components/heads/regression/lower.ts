// Lowering of head 'regression', shared with 'classification': Dropout before the first Linear (before every Linear
// with dropout_each, only before the last with dropout_last), activation after each hidden Linear (`layers.{i}`), Linear `out` (one value, optionally squashed
// into an output range as TFN), the first hidden activation as the head's feature (Self-MM's Feature_m); a
// passthrough head returns its input. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createBatchNorm1d, createLinear, dropout, joinPath } from '../../../runtime/nn/index.js';
import { constantInit } from '../../../runtime/nn/init.js';
import { defineNodeLowering, firstValue, onlyInput, outDim, type LoweredNode, type LowerNodeContext } from '../../../runtime/lower/node.js';
import { activate } from '../../../runtime/nn/pool.js';
import type { IrNode } from '../../../compiler/ir/types.js';
import { hasResidual } from './define.js';
import type { ClassificationHead, RegressionHead } from '../../../compiler/spec/types.generated.js';

export function lowerMlpHead(node: IrNode<RegressionHead | ClassificationHead>, ctx: LowerNodeContext, outSize: number): LoweredNode {
  const input = onlyInput(node, ctx);
  const c = node.config;
  // Only regression heads have an output range (the schema makes it [lo, hi]).
  const range = 'output_range' in c && c.output_range ? c.output_range : undefined;
  // sigmoid(y) * (hi - lo) + lo with constant buffers (TFN registers them as frozen parameters).
  const scale = range ? ctx.store.buffer(joinPath(node.id, 'output_range'), 'scale', [1], constantInit(range[1]! - range[0]!)) : undefined;
  const shift = range ? ctx.store.buffer(joinPath(node.id, 'output_range'), 'shift', [1], constantInit(range[0]!)) : undefined;
  const squash = (y: tf.Tensor): tf.Tensor => (scale && shift ? tf.add(tf.mul(tf.sigmoid(y), scale), shift) : y);
  if (c.passthrough) {
    return { apply: (inputs) => ({ tensor: squash(firstValue(node, inputs).tensor) }) };
  }
  const { hidden, dropout: p, dropout_each: each, activation: act } = c;
  const onlyLast = c.dropout_last === true;
  let prev = outDim(input);
  // TFR-Net's classifier normalises the fused vector first (linear_trans_norm); only regression heads offer it.
  const norm = 'batch_norm' in c && c.batch_norm ? createBatchNorm1d(ctx.store, joinPath(node.id, 'norm'), prev) : undefined;
  // MulT's residual block: its dropout is the head's, so `out` itself gets none.
  const residual = hasResidual(c)
    ? { proj1: createLinear(ctx.store, joinPath(node.id, 'proj1'), prev, prev), proj2: createLinear(ctx.store, joinPath(node.id, 'proj2'), prev, prev) }
    : undefined;
  const layers = hidden.map((h, i) => {
    const l = createLinear(ctx.store, joinPath(node.id, `layers.${i}`), prev, h);
    prev = h;
    return l;
  });
  const out = createLinear(ctx.store, joinPath(node.id, 'out'), prev, outSize);
  return {
    apply(inputs, fctx) {
      let x = firstValue(node, inputs).tensor;
      if (norm) x = norm.apply(x, fctx);
      let feature: tf.Tensor | undefined;
      if (residual) {
        x = tf.add(x, residual.proj2.apply(dropout(activate(residual.proj1.apply(x), act), p, fctx)));
        return { tensor: squash(out.apply(x)) };
      }
      layers.forEach((l, i) => {
        x = activate(l.apply((i === 0 && !onlyLast) || each ? dropout(x, p, fctx) : x), act);
        if (i === 0) feature = x;
      });
      const y = squash(out.apply(layers.length === 0 || each || onlyLast ? dropout(x, p, fctx) : x));
      // The feature is also the named output `hidden0` the definition publishes (`heads.M:hidden0`).
      return feature ? { tensor: y, feature, outputs: { hidden0: feature } } : { tensor: y };
    },
  };
}

export default defineNodeLowering<RegressionHead>('head', (node, ctx) => lowerMlpHead(node, ctx, 1));
