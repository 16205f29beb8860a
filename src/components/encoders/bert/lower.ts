// Lowering of encoder 'bert': a pretrained BERT (local directory or Hugging Face cache) over the text_bert rows
// (ids, mask, segments); [CLS] of the last layer, the masked token mean, the whole sequence or the pooler, and with
// hooks the modules they run inside BERT (BERT-MAG's gate, CENET's cross-modal enhancement) and every hidden state;
// with `also` the same model over more token rows. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { openBertSync } from '../../../runtime/bert/load-bert.js';
import { noGrad, type BertHooks } from '../../../runtime/nn/bert/model.js';
import type { BertEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, outDim } from '../../../runtime/lower/node.js';
import { maskedMeanSteps, tokenRow as row } from '../../../runtime/nn/pool.js';
import { createCe, createMag } from './nn.js';

export default defineNodeLowering<BertEncoder>('encoder', (node, ctx) => {
  const { pretrained, finetune, output, revision, hooks, hidden_states: hiddenStates, freeze_embeddings: freezeEmbeddings } = node.config;
  const also = node.config.also ?? [];
  // The model must already be on disk (local path or HF cache): run.ts downloads it before lowering.
  const { model } = openBertSync(pretrained, ctx.store, node.id, { trainable: finetune, ...(freezeEmbeddings ? { freezeEmbeddings: true } : {}), ...(revision ? { revision } : {}) });
  const magSpec = hooks?.embeddings;
  const mag = magSpec
    ? createMag(ctx.store, node.id, { hidden: model.config.hidden_size, audio: outDim(ctx.inputs[1]!), vision: outDim(ctx.inputs[2]!) }, {
        betaShift: magSpec.beta_shift,
        dropoutProb: magSpec.dropout_prob,
        initializerRange: model.config.initializer_range,
      })
    : undefined;
  const ceSpec = hooks?.before_layer;
  const ce = ceSpec
    ? createCe(ctx.store, node.id, { hidden: model.config.hidden_size, audio: outDim(ctx.inputs[1]!), vision: outDim(ctx.inputs[2]!) }, { initializerRange: model.config.initializer_range })
    : undefined;
  return {
    apply(inputs, fctx) {
      const tokens = firstValue(node, inputs).tensor;
      const outputs: Record<string, tf.Tensor> = {};
      const forward = (ids: tf.Tensor, mask: tf.Tensor, types: tf.Tensor, ...extra: tf.Tensor[]): tf.Tensor => {
        const h: BertHooks = {};
        if (mag) h.embeddings = (e) => mag.apply(e, extra[0]!, extra[1]!, fctx);
        if (ce) h.beforeLayer = new Map([[ceSpec!.layer, (x: tf.Tensor3D) => ce.apply(x, extra[0]!, extra[1]!)]]);
        if (hiddenStates) h.hiddenStates = true;
        const r = model.apply(ids, mask, types, fctx, h);
        r.hidden?.forEach((t, i) => (outputs[`hidden_${i}`] = t));
        if (output === 'cls') return r.cls;
        if (output === 'sequence') return r.sequence;
        if (output === 'pooled') return model.pool(r.cls);
        // Masked mean over real tokens (as MISA's utterance vector).
        return maskedMeanSteps(r.sequence, mask);
      };
      const extra = mag || ce ? [inputs[1]!.tensor, inputs[2]!.tensor] : [];
      // use_finetune false: BERT runs without gradients (dropout still follows train/eval mode, as in MMSA). With a
      // hook (whose own modules train) or published hidden states the forward stays on the tape; BERT's variables are
      // then frozen but its activations are kept for the backward.
      const taped = finetune || mag !== undefined || ce !== undefined || hiddenStates;
      const run = (rows: tf.Tensor): tf.Tensor => {
        const [i, m, t] = [row(rows, 0), row(rows, 1), row(rows, 2)];
        return taped ? forward(i, m, t, ...extra) : noGrad(forward, i, m, t);
      };
      // The same model over every modality of `also` first (TFR-Net runs its BERT over text_m before the text); the
      // hidden states published are those of the encoder's own modality, which runs last.
      const first = inputs.length - also.length;
      also.forEach((m, i) => (outputs[m] = run(inputs[first + i]!.tensor)));
      const tensor = run(tokens);
      return Object.keys(outputs).length > 0 ? { tensor, outputs } : { tensor };
    },
  };
});
