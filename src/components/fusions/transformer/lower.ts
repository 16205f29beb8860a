// Lowering of fusion 'transformer': the inputs stacked as positions [B, n, d], PyTorch's encoder layers, the n
// outputs concatenated [B, n*d] in input order (MISA: torch.cat((h[0], ..., h[5]), dim=1)). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { TransformerFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createTorchTransformer } from '../../../runtime/nn/torch-transformer.js';

export default defineNodeLowering<TransformerFusion>('fusion', (node, ctx) => {
  const d = outDim(ctx.inputs[0]!);
  const { heads, layers, ffn, dropout } = node.config;
  const enc = createTorchTransformer(ctx.store, node.id, { dModel: d, nhead: heads, layers, ffn, dropout });
  return {
    apply(inputs, fctx) {
      const x = tf.stack(inputs.map((v) => v.tensor), 1) as tf.Tensor3D;
      const y = enc.apply(x, fctx);
      return { tensor: tf.reshape(y, [y.shape[0], inputs.length * d]) };
    },
  };
});
