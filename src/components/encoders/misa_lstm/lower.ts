// Lowering of encoder 'misa_lstm' (MISA's extract_features): rnn1 (bidirectional LSTM) packed by lengths, LayerNorm
// over its padded outputs, rnn2 (bidirectional LSTM) packed again; output [h1 fwd, h2 fwd, h1 bwd, h2 bwd]. Phase 6.

import * as tf from '@tensorflow/tfjs';
import type { MisaLstmEncoder } from '../../../compiler/spec/types.generated.js';
import { MmsaError } from '../../../errors.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createLayerNorm, createLstm, joinPath } from '../../../runtime/nn/index.js';

/**
 * MMSA's `mask_len.squeeze().int()`: the number of real tokens of each BERT row (the mask's sum, truncated). The
 * lengths leave the graph, as MMSA moves them to the CPU for pack_padded_sequence.
 */
export function tokenCounts(tokens: tf.Tensor): Int32Array {
  const [B, , L] = tokens.shape as [number, number, number];
  const mask = tf.tidy(() => tf.sum(tf.cast(tf.slice(tokens, [0, 1, 0], [B, 1, L]), 'float32'), [1, 2]));
  const sums = mask.dataSync();
  mask.dispose();
  return Int32Array.from(sums, (v) => Math.trunc(v));
}

export default defineNodeLowering<MisaLstmEncoder>('encoder', (node, ctx) => {
  const input = ctx.inputs[0]!;
  const d = outDim(input);
  const h = node.config.hidden ?? d;
  const rnn1 = createLstm(ctx.store, joinPath(node.id, 'rnn1'), { inputSize: d, hiddenSize: h, bidirectional: true });
  const norm = createLayerNorm(ctx.store, joinPath(node.id, 'layer_norm'), 2 * h);
  const rnn2 = createLstm(ctx.store, joinPath(node.id, 'rnn2'), { inputSize: 2 * h, hiddenSize: h, bidirectional: true });
  return {
    apply(inputs, fctx) {
      const seq = inputs[0]!;
      const lengths = node.config.lengths_from === null ? seq.lengths : tokenCounts(inputs[1]!.tensor);
      if (!lengths) {
        throw new MmsaError('MSA6701', `'${node.id}' runs packed but the batch has no lengths for '${input.name}'`, {
          hint: `give modalities.${input.name} a lengths feature, or set lengths_from (MISA: modalities.text)`,
          details: { node: node.id },
        });
      }
      const T = seq.tensor.shape[1]!;
      const bad = lengths.findIndex((l) => l < 1 || l > T);
      if (bad >= 0) {
        throw new MmsaError('MSA6701', `'${node.id}' packs row ${bad} of the batch by length ${lengths[bad]}, but '${input.name}' has ${T} steps`, {
          hint: 'every length must lie in 1..the sequence length (torch.nn.utils.rnn.pack_padded_sequence refuses others); check lengths_from and the padding of the feature',
          details: { node: node.id, length: lengths[bad], steps: T },
        });
      }
      const r1 = rnn1.apply(seq.tensor as tf.Tensor3D, fctx, { lengths, returnOutputs: true });
      // Padded steps of r1's outputs are normalised too; rnn2 runs packed, so they are never read.
      const r2 = rnn2.apply(norm.apply(r1.outputs!) as tf.Tensor3D, fctx, { lengths });
      return { tensor: tf.concat([r1.hN[0]!, r2.hN[0]!, r1.hN[1]!, r2.hN[1]!], 1) };
    },
  };
});
