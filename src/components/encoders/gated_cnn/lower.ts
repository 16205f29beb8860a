// Lowering of encoder 'gated_cnn': Linear `proj`, then per layer h = (h + GLU(conv(dropout(h)))) * sqrt(0.5) with
// padded frames zeroed before every convolution, masked pooling, optional Linear `linear`. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { IrNode } from '../../../compiler/ir/types.js';
import type { GatedCnnEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, firstValue, onlyInput, outDim, type LoweredNode, type LowerNodeContext } from '../../../runtime/lower/node.js';
import { createConv1d, poolSteps, zeroPadding } from '../../../runtime/nn/conv.js';
import { createLinear, dropout } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx } from '../../../runtime/nn/params.js';

type Body = (h: tf.Tensor3D, lengths: Int32Array | undefined, fctx: ForwardCtx) => tf.Tensor3D;

/**
 * The frame shared by the CNN encoders (gated_cnn, dilated_tcn): Linear `proj` to `channels` (padded frames zeroed),
 * the encoder's own layers (`makeBody` creates them, in PyTorch's module order between `proj` and `linear`), then
 * masked pooling over valid frames (or the sequence with its lengths, for `pool: none`), dropout and the optional
 * Linear `linear`.
 */
export function lowerConvEncoder(node: IrNode<{ channels: number; out: number | null; pool: 'mean' | 'max' | 'none'; dropout: number }>, ctx: LowerNodeContext, makeBody: () => Body): LoweredNode {
  const p = node.config;
  const proj = createLinear(ctx.store, joinPath(node.id, 'proj'), outDim(onlyInput(node, ctx)), p.channels);
  const body = makeBody();
  const out = p.out === null ? undefined : createLinear(ctx.store, joinPath(node.id, 'linear'), p.channels, p.out);
  return {
    apply(inputs, fctx) {
      const v = firstValue(node, inputs);
      const L = v.lengths;
      const h = body(zeroPadding(proj.apply(v.tensor) as tf.Tensor3D, L), L, fctx);
      const z = p.pool === 'none' ? h : poolSteps(h, p.pool, L);
      const y = out ? out.apply(dropout(z, p.dropout, fctx)) : z;
      return p.pool === 'none' && L ? { tensor: y, lengths: L } : { tensor: y };
    },
  };
}

export default defineNodeLowering<GatedCnnEncoder>('encoder', (node, ctx) =>
  lowerConvEncoder(node, ctx, () => {
    const p = node.config;
    const C = p.channels;
    const convs = Array.from({ length: p.layers }, (_, i) => createConv1d(ctx.store, joinPath(node.id, `layers.${i}`), C, 2 * C, p.kernel));
    return (h0, L, fctx) => {
      let h = h0;
      for (const conv of convs) {
        const y = conv.apply(zeroPadding(dropout(h, p.dropout, fctx) as tf.Tensor3D, L), 'same');
        const [B, T] = y.shape;
        // GLU (torch's F.glu over channels): first half gated by the sigmoid of the second.
        const a = tf.slice(y, [0, 0, 0], [B, T, C]);
        const g = tf.slice(y, [0, 0, C], [B, T, C]);
        // The sqrt(0.5) residual scale of convolutional sequence models keeps the stream's variance from growing.
        h = zeroPadding(tf.mul(tf.add(h, tf.mul(a, tf.sigmoid(g))), Math.SQRT1_2) as tf.Tensor3D, L);
      }
      return h;
    };
  }),
);
