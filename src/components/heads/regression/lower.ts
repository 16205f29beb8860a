// Lowering of head 'regression', shared with 'classification': Dropout before the first Linear (before every Linear
// with dropout_each), activation after each hidden Linear (`layers.{i}`), Linear `out` (one value, optionally squashed
// into an output range as TFN), the first hidden activation as the head's feature (Self-MM's Feature_m); a
// passthrough head returns its input. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, joinPath } from '../../../runtime/nn/index.js';
import { constantInit } from '../../../runtime/nn/init.js';
import { cfgBool, cfgNumber, cfgNumbers, cfgString, firstValue, onlyInput, outDim, type LoweredNode, type LowerNodeContext, type NodeLowering } from '../../../runtime/lower/node.js';
import { activate } from '../../../runtime/nn/pool.js';
import type { IrNode } from '../../../compiler/ir/types.js';

export function lowerMlpHead(node: IrNode, ctx: LowerNodeContext, outSize: number): LoweredNode {
  const input = onlyInput(node, ctx);
  const rangeCfg = node.config['output_range'];
  const range = Array.isArray(rangeCfg) && rangeCfg.length === 2 ? (rangeCfg as [number, number]) : undefined;
  // sigmoid(y) * (hi - lo) + lo with constant buffers (TFN registers them as frozen parameters).
  const scale = range ? ctx.store.buffer(joinPath(node.id, 'output_range'), 'scale', [1], constantInit(range[1] - range[0])) : undefined;
  const shift = range ? ctx.store.buffer(joinPath(node.id, 'output_range'), 'shift', [1], constantInit(range[0])) : undefined;
  const squash = (y: tf.Tensor): tf.Tensor => (scale && shift ? tf.add(tf.mul(tf.sigmoid(y), scale), shift) : y);
  if (cfgBool(node, 'passthrough', false)) {
    return { apply: (inputs) => ({ tensor: squash(firstValue(node, inputs).tensor) }) };
  }
  const hidden = cfgNumbers(node, 'hidden');
  const p = cfgNumber(node, 'dropout', 0);
  const each = cfgBool(node, 'dropout_each', false);
  const act = cfgString(node, 'activation', 'relu');
  let prev = outDim(input);
  const layers = hidden.map((h, i) => {
    const l = createLinear(ctx.store, joinPath(node.id, `layers.${i}`), prev, h);
    prev = h;
    return l;
  });
  const out = createLinear(ctx.store, joinPath(node.id, 'out'), prev, outSize);
  return {
    apply(inputs, fctx) {
      let x = firstValue(node, inputs).tensor;
      let feature: tf.Tensor | undefined;
      layers.forEach((l, i) => {
        x = activate(l.apply(i === 0 || each ? dropout(x, p, fctx) : x), act);
        if (i === 0) feature = x;
      });
      const y = squash(out.apply(layers.length === 0 || each ? dropout(x, p, fctx) : x));
      return feature ? { tensor: y, feature } : { tensor: y };
    },
  };
}

export const lowerRegressionHead: NodeLowering = (node, ctx) => lowerMlpHead(node, ctx, 1);
