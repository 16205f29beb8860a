// Lowering of encoder 'window_pool': the window summaries (with each row's window count as its lengths), then the
// wrapped encoder's own lowering over them, its parameters under `encoder.`. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { IrNode } from '../../../compiler/ir/types.js';
import type { WindowPoolEncoder } from '../../../compiler/spec/types.generated.js';
import { MmsaError } from '../../../errors.js';
import { defineNodeLowering, firstValue, onlyInput, type NodeValue } from '../../../runtime/lower/node.js';
import { getLowering } from '../../../runtime/lower/registry.js';
import { joinPath } from '../../../runtime/nn/params.js';
import { innerParams, pooledType, strideOf } from './define.js';
import { poolWindows, windowLengths } from './nn.js';

export default defineNodeLowering<WindowPoolEncoder>('encoder', (node, ctx) => {
  const p = node.config;
  const input = onlyInput(node, ctx);
  const stride = strideOf(p);
  const windows: IrNode = { ...input, id: `${node.id}:windows`, name: `${input.name} windows`, output: pooledType(input.output, p) };
  let inner: ReturnType<NonNullable<ReturnType<typeof lowerOf>>> | undefined;
  if (p.encoder) {
    const lowerNode = lowerOf(p.encoder.type);
    if (!lowerNode) throw new MmsaError('MSA5002', `internal: no lowering for the encoder '${p.encoder.type}' inside '${node.id}'`);
    const config = innerParams(p.encoder, windows.output);
    const innerNode: IrNode = { ...node, id: joinPath(node.id, 'encoder'), type: p.encoder.type, inputs: [windows.id], config, params: node.params };
    inner = lowerNode(innerNode, { ...ctx, inputs: [windows] });
  }
  return {
    apply(inputs, fctx): NodeValue {
      const v = firstValue(node, inputs);
      const x = v.tensor as tf.Tensor3D;
      const pooled: NodeValue = { tensor: poolWindows(x, p.window, stride, p.op, v.lengths) };
      if (v.lengths) pooled.lengths = windowLengths(v.lengths, x.shape[1], stride);
      if (!inner) return pooled;
      const r = inner.apply([pooled], fctx);
      return { ...r, outputs: { ...r.outputs, windows: pooled.tensor } };
    },
  };
});

function lowerOf(type: string) {
  const l = getLowering('encoder', type);
  return l && l.kind !== 'task' ? l.lowerNode : undefined;
}
