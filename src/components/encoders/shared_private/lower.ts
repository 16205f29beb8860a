// Lowering of encoder 'shared_private' (MISA): private_<name> = sigmoid(Linear_<name>(x)), shared_<name> =
// sigmoid(Linear_shared(x)) for every input x (with `project`, x = LayerNorm(ReLU(Linear(input))) = orig_<name>;
// with `reconstruct`, recon_<name> = Linear(private + shared)); the node's own output concatenates the privates, then
// the shareds (MISA stacks them in that order). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { SharedPrivateEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createLayerNorm, createLinear } from '../../../runtime/nn/layers.js';
import { joinPath } from '../../../runtime/nn/params.js';
import { inputLabel } from './define.js';

export default defineNodeLowering<SharedPrivateEncoder>('encoder', (node, ctx) => {
  const { out, project, reconstruct } = node.config;
  const labels = node.config.inputs.map(inputLabel);
  // Created in the order the shape rule declares the parameters.
  const projections = project
    ? labels.map((l, i) => ({
        linear: createLinear(ctx.store, joinPath(node.id, `project_${l}`), outDim(ctx.inputs[i]!), out),
        norm: createLayerNorm(ctx.store, joinPath(node.id, `project_${l}_layer_norm`), out),
      }))
    : undefined;
  const d = project ? out : outDim(ctx.inputs[0]!);
  const privates = labels.map((l) => createLinear(ctx.store, joinPath(node.id, `private_${l}`), d, out));
  const shared = createLinear(ctx.store, joinPath(node.id, 'shared'), d, out);
  const recons = reconstruct ? labels.map((l) => createLinear(ctx.store, joinPath(node.id, `recon_${l}`), out, out)) : undefined;
  return {
    apply(inputs) {
      const outputs: Record<string, tf.Tensor> = {};
      const xs = inputs.map((v, i) => {
        const pr = projections?.[i];
        return pr ? (outputs[`orig_${labels[i]}`] = pr.norm.apply(tf.relu(pr.linear.apply(v.tensor)))) : v.tensor;
      });
      const p = xs.map((x, i) => (outputs[`private_${labels[i]}`] = tf.sigmoid(privates[i]!.apply(x))));
      const s = xs.map((x, i) => (outputs[`shared_${labels[i]}`] = tf.sigmoid(shared.apply(x))));
      if (recons) labels.forEach((l, i) => (outputs[`recon_${l}`] = recons[i]!.apply(tf.add(p[i]!, s[i]!))));
      return { tensor: tf.concat([...p, ...s], 1), outputs };
    },
  };
});
