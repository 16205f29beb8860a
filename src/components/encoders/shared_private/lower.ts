// Lowering of encoder 'shared_private' (MISA): private_<name> = sigmoid(Linear_<name>(x)), shared_<name> =
// sigmoid(Linear_shared(x)) for every input x; the node's own output concatenates the privates, then the shareds
// (MISA stacks them in that order). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { SharedPrivateEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createLinear } from '../../../runtime/nn/layers.js';
import { joinPath } from '../../../runtime/nn/params.js';
import { inputLabel } from './define.js';

export default defineNodeLowering<SharedPrivateEncoder>('encoder', (node, ctx) => {
  const labels = node.config.inputs.map(inputLabel);
  const d = outDim(ctx.inputs[0]!);
  const privates = labels.map((l) => createLinear(ctx.store, joinPath(node.id, `private_${l}`), d, node.config.out));
  const shared = createLinear(ctx.store, joinPath(node.id, 'shared'), d, node.config.out);
  return {
    apply(inputs) {
      const outputs: Record<string, tf.Tensor> = {};
      const p = inputs.map((v, i) => (outputs[`private_${labels[i]}`] = tf.sigmoid(privates[i]!.apply(v.tensor))));
      const s = inputs.map((v, i) => (outputs[`shared_${labels[i]}`] = tf.sigmoid(shared.apply(v.tensor))));
      return { tensor: tf.concat([...p, ...s], 1), outputs };
    },
  };
});
