// Lowering of encoder 'crossmodal_attn' (TFR-Net's CM_ATTN): per input x, h_x = [mem(x); x<-y; x<-z] over the full
// sequences, and with `final` the transformer over h_x transposed (width = x's length). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createTransformerEncoder, joinPath, type TransformerEncoder } from '../../../runtime/nn/index.js';
import type { CrossmodalAttnEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { defaultBertActivations } from '../../../runtime/nn/bert/model.js';
import { sourceDropout } from '../../fusions/crossmodal/define.js';
import { alignedOutput, alignMemoryLayers, alignPlan, finalLayers, finalOutput } from './define.js';

/**
 * The final transformer's view of h [B, T, w] as batch-major [batch, sequence, embedding]. 'batch' is MMSA's
 * h.permute(1, 2, 0) read as [sequence, batch, embedding]: the sequence is the batch, the batch the w channels
 * ([w, B, T] here); 'channels' keeps each sample apart: its w channels are the sequence ([B, w, T]).
 */
const FINAL_IN: Record<'batch' | 'channels', number[]> = { batch: [2, 0, 1], channels: [0, 2, 1] };
/** Back to [B, T, w] (MMSA's .permute(0, 2, 1) of the [B, w, T] it gets back). */
const FINAL_OUT: Record<'batch' | 'channels', number[]> = { batch: [1, 2, 0], channels: [0, 2, 1] };

export default defineNodeLowering<CrossmodalAttnEncoder>('encoder', (node, ctx) => {
  const c = node.config;
  const d = outDim(ctx.inputs[0]!);
  const activations = defaultBertActivations();
  const shared = { reluDropout: c.relu_dropout, resDropout: c.res_dropout, embedDropout: c.embed_dropout, attnMask: c.attn_mask, activations };
  const plan = alignPlan(c);
  const labels = plan.map((p) => p.target);
  const make = (name: string, opts: Parameters<typeof createTransformerEncoder>[2]): TransformerEncoder =>
    createTransformerEncoder(ctx.store, joinPath(node.id, name), { ...shared, ...opts });
  // Created in MMSA's order (the shape rule's declaration order): cross-modal encoders, memories, final transformers.
  const cross = plan.map(({ target, sources }) =>
    sources.map((s) => ({
      source: labels.indexOf(s),
      enc: make(`${target}_with_${s}`, { embedDim: d, numHeads: c.heads, layers: c.layers, attnDropout: sourceDropout(c, s), positions: c.positions }),
    })),
  );
  const memories = plan.map(({ target }) =>
    make(`${target}_mem`, { embedDim: d, numHeads: c.heads, layers: alignMemoryLayers(c), attnDropout: c.memory_attn_dropout, positions: c.positions }),
  );
  // The final transformers' width is each input's length, which the shape rule declared with their parameters.
  const lengthOf = (target: string): number => node.params.find((p) => p.name === `${target}_final.layer_norm.weight`)!.shape[0]!;
  const finals = c.final
    ? plan.map(({ target }) =>
        make(`${target}_final`, { embedDim: lengthOf(target), numHeads: c.final!.heads, layers: finalLayers(c), attnDropout: c.final!.attn_dropout, positions: false }),
      )
    : undefined;
  return {
    apply(inputs, fctx) {
      const xs = inputs.map((v) => v.tensor as tf.Tensor3D);
      const outputs: Record<string, tf.Tensor> = {};
      // In MMSA's order (which fixes the order dropout masks are drawn in): per input its memory, its cross-modal
      // encoders, its final transformer; the concatenation in that order.
      xs.forEach((x, i) => {
        const mem = memories[i]!.apply(x, undefined, fctx);
        const crossed = cross[i]!.map((cm) => cm.enc.apply(x, xs[cm.source]!, fctx));
        const h = (outputs[alignedOutput(labels[i]!)] = tf.concat([mem, ...crossed], 2) as tf.Tensor3D);
        if (!finals) return;
        const over = c.final!.attend_over;
        const y = finals[i]!.apply(tf.transpose(h, FINAL_IN[over]) as tf.Tensor3D, undefined, fctx);
        outputs[finalOutput(labels[i]!)] = tf.transpose(y, FINAL_OUT[over]);
      });
      return { tensor: outputs[alignedOutput(labels[0]!)]!, outputs };
    },
  };
});
