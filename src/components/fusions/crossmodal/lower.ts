// Lowering of fusion 'crossmodal' (MulT): for each target input, its cross-modal transformers over every other input,
// their outputs concatenated over features into the target's self-attention memory, whose last step is kept; the
// targets' last steps concatenated in input order. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createTransformerEncoder, joinPath, type ForwardCtx, type TransformerEncoder } from '../../../runtime/nn/index.js';
import type { CrossmodalFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { crossmodalPlan, enhancedVia, memoryLayers, sourceDropout } from './define.js';
import { defaultBertActivations } from '../../../runtime/nn/bert/model.js';

/** A cross-modal block: the target's queries over the source, with every input at hand (a text-enhanced block's via). */
interface CrossBlock {
  apply(q: tf.Tensor3D, source: tf.Tensor3D, fctx: ForwardCtx, all: tf.Tensor3D[]): tf.Tensor3D;
}

export default defineNodeLowering<CrossmodalFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const d = outDim(ctx.inputs[0]!);
  // The run sets the memory plan's activation mode before lowering (BERT's layers read the same switch): with
  // 'recompute' every transformer layer keeps only its inputs and runs again in the backward pass.
  const activations = defaultBertActivations();
  const shared = { numHeads: c.heads, reluDropout: c.relu_dropout, resDropout: c.res_dropout, embedDropout: c.embed_dropout, attnMask: c.attn_mask, activations };
  const plan = crossmodalPlan(c).map(({ target, sources }) => ({
    target: c.inputs.indexOf(target),
    cross: sources.map((s) => {
      const path = joinPath(node.id, `${target}_with_${s}`);
      const via = enhancedVia(c, target, s);
      if (via === undefined) {
        const plain = createTransformerEncoder(ctx.store, path, { ...shared, embedDim: d, layers: c.layers, attnDropout: sourceDropout(c, s) });
        const enc: CrossBlock = { apply: (q, src, fctx) => plain.apply(q, src, fctx) };
        return { source: c.inputs.indexOf(s), enc };
      }
      // TETFN's text-enhanced block: the source attends to `via`, then the target attends to that result.
      const te = { ...shared, embedDim: d, attnDropout: sourceDropout(c, via), positions: true };
      const lower = createTransformerEncoder(ctx.store, joinPath(path, 'lower_mha'), { ...te, layers: c.text_enhanced!.lower_layers });
      const upper = createTransformerEncoder(ctx.store, joinPath(path, 'upper_mha'), { ...te, layers: c.layers, sourcePositions: c.text_enhanced!.upper_source_positions });
      const v = c.inputs.indexOf(via);
      const enc: CrossBlock = { apply: (q, src, fctx, all) => upper.apply(q, lower.apply(src, all[v]!, fctx), fctx) };
      return { source: c.inputs.indexOf(s), enc };
    }),
    memory: createTransformerEncoder(ctx.store, joinPath(node.id, `${target}_mem`), {
      ...shared,
      embedDim: (c.inputs.length - 1) * d,
      layers: memoryLayers(c),
      attnDropout: c.memory_attn_dropout,
    }) as TransformerEncoder,
  }));
  return {
    apply(inputs, fctx) {
      const xs = inputs.map((v) => v.tensor as tf.Tensor3D);
      const lasts = plan.map((p) => {
        const q = xs[p.target]!;
        const crossed = p.cross.map((cm) => cm.enc.apply(q, xs[cm.source]!, fctx, xs));
        const h = p.memory.apply(crossed.length === 1 ? crossed[0]! : (tf.concat(crossed, 2) as tf.Tensor3D), undefined, fctx);
        const [B, T, D] = h.shape;
        return tf.reshape(tf.slice(h, [0, T - 1, 0], [B, 1, D]), [B, D]);
      });
      return { tensor: tf.concat(lasts, 1) };
    },
  };
});
