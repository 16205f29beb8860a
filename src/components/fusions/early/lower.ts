// Lowering of fusion 'early' (EF-LSTM): per-time-step concatenation of aligned sequences, BatchNorm1d `norm` over the
// T time-step channels, LSTM `lstm.*` over all steps (unpacked, inter-layer dropout), the last layer's h_n.
// Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import { createBatchNorm1d, createLstm, joinPath } from '../../../runtime/nn/index.js';
import { earlyFusion } from './nn.js';
import { MmsaError } from '../../../errors.js';
import type { EarlyFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';

export default defineNodeLowering<EarlyFusion>('fusion', (node, ctx) => {
  const first = ctx.inputs[0];
  const T = first?.output.shape[1];
  if (typeof T !== 'number') throw new MmsaError('MSA5002', `internal: '${node.id}' needs sequences with a known length`);
  const D = ctx.inputs.reduce((s, i) => s + outDim(i), 0);
  const norm = node.config.batchnorm ? createBatchNorm1d(ctx.store, joinPath(node.id, 'norm'), T) : undefined;
  const lstm = createLstm(ctx.store, joinPath(node.id, 'lstm'), {
    inputSize: D,
    hiddenSize: node.config.hidden,
    numLayers: node.config.layers,
    dropout: node.config.dropout,
  });
  return {
    apply(inputs, fctx) {
      let x: tf.Tensor = earlyFusion(inputs.map((v) => v.tensor as tf.Tensor3D));
      if (norm) x = norm.apply(x, fctx);
      return { tensor: lstm.apply(x as tf.Tensor3D, fctx).last };
    },
  };
});
