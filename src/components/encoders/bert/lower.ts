// Lowering of encoder 'bert': a pretrained BERT (local directory or Hugging Face cache) over the text_bert rows
// (ids, mask, segments); [CLS] of the last layer, the masked token mean, or the whole sequence. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { openBertSync } from '../../../runtime/bert/load-bert.js';
import { noGrad } from '../../../runtime/nn/bert/model.js';
import type { BertEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue } from '../../../runtime/lower/node.js';

/** Row r of a [B, 3, L] token tensor as [B, L]. */
function row(tokens: tf.Tensor, r: number): tf.Tensor2D {
  const [b, , l] = tokens.shape as [number, number, number];
  return tf.reshape(tf.slice(tokens, [0, r, 0], [b, 1, l]), [b, l]);
}

export default defineNodeLowering<BertEncoder>('encoder', (node, ctx) => {
  const { pretrained, finetune, output, revision } = node.config;
  // The model must already be on disk (local path or HF cache): run.ts downloads it before lowering.
  const { model } = openBertSync(pretrained, ctx.store, node.id, { trainable: finetune, ...(revision ? { revision } : {}) });
  return {
    apply(inputs, fctx) {
      const tokens = firstValue(node, inputs).tensor;
      const forward = (ids: tf.Tensor, mask: tf.Tensor, types: tf.Tensor): tf.Tensor => {
        const r = model.apply(ids, mask, types, fctx);
        if (output === 'cls') return r.cls;
        if (output === 'sequence') return r.sequence;
        // Masked mean over real tokens (as MISA's utterance vector).
        const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
        return tf.div(tf.sum(tf.mul(r.sequence, m), 1), tf.maximum(tf.sum(m, 1), 1));
      };
      const ids = row(tokens, 0);
      const mask = row(tokens, 1);
      const types = row(tokens, 2);
      // use_finetune false: BERT runs without gradients (dropout still follows train/eval mode, as in MMSA).
      const tensor = finetune ? forward(ids, mask, types) : noGrad(forward, ids, mask, types);
      return { tensor };
    },
  };
});
