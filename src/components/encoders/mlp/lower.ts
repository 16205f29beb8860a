// Lowering of encoder 'mlp': pool a sequence (mean / first / last valid step; none keeps it), then Dropout -> Linear -> activation
// per hidden size (`layers.{i}`) and Dropout -> Linear `out`. Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, joinPath } from '../../../runtime/nn/index.js';
import type { MlpEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim } from '../../../runtime/lower/node.js';
import { activate, poolToVector } from '../../../runtime/nn/pool.js';

export default defineNodeLowering<MlpEncoder>('encoder', (node, ctx) => {
  const input = onlyInput(node, ctx);
  const { hidden, dropout: p, activation: act, pool } = node.config;
  let prev = outDim(input);
  const layers = hidden.map((h, i) => {
    const l = createLinear(ctx.store, joinPath(node.id, `layers.${i}`), prev, h);
    prev = h;
    return l;
  });
  const out = createLinear(ctx.store, joinPath(node.id, 'out'), prev, node.config.out);
  return {
    apply(inputs, fctx) {
      const v = firstValue(node, inputs);
      // pool none: Linear works on the last axis, so every step of a sequence goes through the same layers.
      let x: tf.Tensor = pool === 'none' ? v.tensor : poolToVector(v.tensor, pool, v.lengths);
      for (const l of layers) x = activate(l.apply(dropout(x, p, fctx)), act);
      const y = out.apply(dropout(x, p, fctx));
      return pool === 'none' && v.lengths ? { tensor: y, lengths: v.lengths } : { tensor: y };
    },
  };
});
