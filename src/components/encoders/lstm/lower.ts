// Lowering of encoder 'lstm' (Self-MM's AuViSubNet), shared with 'gru': recurrent layers named `<type>.*`, packed by
// true lengths when configured, last layer's h_n (both directions concatenated), Dropout + Linear `linear`.
// Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createGru, createLinear, createLstm, dropout, joinPath, type Rnn } from '../../../runtime/nn/index.js';
import { MmsaError } from '../../../errors.js';
import { defineNodeLowering, firstValue, onlyInput, outDim, type LoweredNode, type LowerNodeContext } from '../../../runtime/lower/node.js';
import type { IrNode } from '../../../compiler/ir/types.js';
import type { GruEncoder, LstmEncoder } from '../../../compiler/spec/types.generated.js';

export function lowerRnnEncoder(node: IrNode<LstmEncoder | GruEncoder>, ctx: LowerNodeContext): LoweredNode {
  const cell = node.config.type;
  const input = onlyInput(node, ctx);
  const { hidden, layers, dropout: p, bidirectional, out } = node.config;
  // Phase 3 sets `packed` from the modality's lengths when the spec leaves it out.
  const packed = node.config.packed === true;
  const opts = { inputSize: outDim(input), hiddenSize: hidden, numLayers: layers, dropout: p, bidirectional };
  const path = joinPath(node.id, cell);
  const rnn: Rnn = cell === 'lstm' ? createLstm(ctx.store, path, opts) : createGru(ctx.store, path, opts);
  const dirs = bidirectional ? 2 : 1;
  const proj = out !== null ? createLinear(ctx.store, joinPath(node.id, 'linear'), hidden * dirs, out) : undefined;
  return {
    apply(inputs, fctx) {
      const v = firstValue(node, inputs);
      if (packed && !v.lengths) {
        throw new MmsaError('MSA6701', `'${node.id}' runs packed but the batch has no lengths for '${input.name}'`, {
          hint: `give modalities.${input.name} a lengths feature, or set packed: false on the encoder`,
          details: { node: node.id },
        });
      }
      const sequence = 'sequence' in node.config && node.config.sequence === true;
      const r = rnn.apply(v.tensor as tf.Tensor3D, fctx, { ...(packed && v.lengths ? { lengths: v.lengths } : {}), ...(sequence ? { returnOutputs: true } : {}) });
      if (sequence) return { tensor: r.outputs! };
      const n = r.hN.length;
      const h = bidirectional ? tf.concat([r.hN[n - 2]!, r.hN[n - 1]!], 1) : r.last;
      if (!proj) return { tensor: h };
      return { tensor: proj.apply(dropout(h, p, fctx)) };
    },
  };
}

export default defineNodeLowering<LstmEncoder>('encoder', lowerRnnEncoder);
