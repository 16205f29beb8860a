// Lowering of fusion 'mmim': the fusion MLP (f), the MMILB modules (mu / logvar MLPs, entropy projection) and the CPC
// Linears; returns f and publishes lld, nce and the entropy projections. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, joinPath, type Linear } from '../../../runtime/nn/index.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import type { MmimFusion } from '../../../compiler/spec/types.generated.js';
import { CPC_TARGETS, entropyOutput, LLD, mmilbPairs, NCE } from './define.js';
import { cpcNce, gaussianLld } from './nn.js';

interface Mmilb {
  name: string;
  x: number;
  y: number;
  mu: [Linear, Linear];
  logvar: [Linear, Linear];
  prj: Linear;
}

export default defineNodeLowering<MmimFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const at = (name: string) => joinPath(node.id, name);
  const dims = ctx.inputs.map((i) => outDim(i));
  const sum = dims.reduce((a, b) => a + b, 0);
  const l1 = createLinear(ctx.store, at('fusion_prj.linear_1'), sum, c.hidden);
  const l2 = createLinear(ctx.store, at('fusion_prj.linear_2'), c.hidden, c.hidden);
  const mis: Mmilb[] = mmilbPairs(c).map(([name, x, y]) => {
    const dx = dims[x]!, dy = dims[y]!;
    const mlp = (part: string): [Linear, Linear] => [
      createLinear(ctx.store, at(`mi_${name}.${part}.0`), dx, dy),
      createLinear(ctx.store, at(`mi_${name}.${part}.2`), dy, dy),
    ];
    return { name, x, y, mu: mlp('mlp_mu'), logvar: mlp('mlp_logvar'), prj: createLinear(ctx.store, at(`mi_${name}.entropy_prj.0`), dy, Math.floor(dy / 4)) };
  });
  const cpcs = CPC_TARGETS.map(([name, i]) => ({ i, net: createLinear(ctx.store, at(`cpc_${name}.net`), c.hidden, dims[i]!) }));
  // The configured "last activation" (mmilb_last_activation: Tanh) is never applied by MMSA's MMILB: logvar is linear.
  const mlp = ([a, b]: [Linear, Linear], x: tf.Tensor) => b.apply(tf.relu(a.apply(x))) as tf.Tensor2D;
  return {
    apply(inputs, fctx) {
      const hs = inputs.map((v) => v.tensor as tf.Tensor2D);
      const f = tf.tanh(l2.apply(tf.tanh(l1.apply(dropout(tf.concat(hs, 1), c.dropout, fctx))))) as tf.Tensor2D;
      const outputs: Record<string, tf.Tensor> = {};
      const llds = mis.map((m) => {
        const x = hs[m.x]!, y = hs[m.y]!;
        outputs[entropyOutput(m.name)] = tf.tanh(m.prj.apply(y));
        return gaussianLld(mlp(m.mu, x), mlp(m.logvar, x), y);
      });
      outputs[LLD] = tf.reshape(tf.addN(llds), [1]);
      outputs[NCE] = tf.reshape(tf.addN(cpcs.map((p) => cpcNce(hs[p.i]!, p.net.apply(f) as tf.Tensor2D))), [1]);
      return { tensor: f, outputs };
    },
  };
});
