// Lowering of fusion 'mfm': encoders, the embedded MFN (the mfn fusion's own layers), z -> f networks, decoders;
// returns f_y and publishes each input's reconstruction MSE, the MMD sum and the factors. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, dropout, joinPath } from '../../../runtime/nn/index.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import type { MfmFusion } from '../../../compiler/spec/types.generated.js';
import type { ForwardCtx } from '../../../runtime/nn/params.js';
import { createLstmCell, runLstmCell, type TwoLayer } from '../mfn/nn.js';
import { createMfn } from '../mfn/lower.js';
import { factor, FACTOR_Y, MMD_LOSS, reconLoss } from './define.js';
import { mmdLoss, runFeedbackDecoder } from './nn.js';

/** MMSA's z -> f block: relu(fc2(dropout(relu(fc1(z))))). */
function applyZtoF(n: TwoLayer, z: tf.Tensor, ctx: ForwardCtx): tf.Tensor2D {
  return tf.relu(n.fc2.apply(dropout(tf.relu(n.fc1.apply(z)), n.dropout, ctx))) as tf.Tensor2D;
}

/** A standard Gaussian sample shaped like z from the forward pass's generator (MMSA draws torch.randn per call). */
function gaussianLike(z: tf.Tensor2D, ctx: ForwardCtx): tf.Tensor2D {
  const v = new Float32Array(z.size);
  for (let i = 0; i < v.length; i++) v[i] = ctx.rng.normal();
  return tf.tensor2d(v, z.shape);
}

export default defineNodeLowering<MfmFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const at = (name: string) => joinPath(node.id, name);
  const dims = ctx.inputs.map((i) => outDim(i));
  const encoders = c.inputs.map((n, i) => ({
    lstm: createLstmCell(ctx.store, at(`encoder_${n}.lstm`), dims[i]!, c.z[i]!),
    fc1: createLinear(ctx.store, at(`encoder_${n}.fc1`), c.z[i]!, c.z[i]!),
  }));
  const decoders = c.inputs.map((n, i) => {
    const H = c.fy + c.f[i]!;
    return { lstm: createLstmCell(ctx.store, at(`decoder_${n}.lstm`), H, H), fc1: createLinear(ctx.store, at(`decoder_${n}.fc1`), H, dims[i]!) };
  });
  const mfn = createMfn(ctx.store, at('mfn_encoder'), dims, c);
  const lastToZy = createLinear(ctx.store, at('last_to_zy_fc1'), c.hidden.reduce((s, h) => s + h, 0) + c.memsize, c.zy);
  const twoLayer = (name: string, inSize: number, out: number, p: number): TwoLayer => ({
    fc1: createLinear(ctx.store, at(`${name}_fc1`), inSize, out),
    fc2: createLinear(ctx.store, at(`${name}_fc2`), out, out),
    dropout: p,
  });
  const zyToFy = twoLayer('zy_to_fy', c.zy, c.fy, c.zy_dropout);
  const zToF = c.inputs.map((n, i) => twoLayer(`z_to_f_${n}`, c.z[i]!, c.f[i]!, c.z_dropout?.[i] ?? 0));
  return {
    apply(inputs, fctx) {
      const xs = inputs.map((v) => v.tensor as tf.Tensor3D);
      const T = xs[0]!.shape[1];
      const zs = xs.map((x, i) => encoders[i]!.fc1.apply(runLstmCell(x, encoders[i]!.lstm).last) as tf.Tensor2D);
      const zy = lastToZy.apply(mfn.apply(xs, fctx)) as tf.Tensor2D;
      // MMSA draws the Gaussian samples in the order z_l, z_a, z_v, z_y.
      const mmd = [...zs, zy].map((z) => mmdLoss(z, gaussianLike(z, fctx), c.mmd_kernel_div_dim)).reduce((a, b) => tf.add(a, b) as tf.Scalar);
      const fy = applyZtoF(zyToFy, zy, fctx);
      const outputs: Record<string, tf.Tensor> = { [MMD_LOSS]: tf.reshape(mmd, [1]), [FACTOR_Y]: zy };
      c.inputs.forEach((n, i) => {
        const fm = applyZtoF(zToF[i]!, zs[i]!, fctx);
        const h = runFeedbackDecoder(tf.concat([fy, fm], 1) as tf.Tensor2D, decoders[i]!.lstm, T);
        const recon = decoders[i]!.fc1.apply(h);
        outputs[reconLoss(n)] = tf.reshape(tf.mean(tf.square(tf.sub(recon, xs[i]!))), [1]);
        outputs[factor(n)] = zs[i]!;
      });
      return { tensor: fy, outputs };
    },
  };
});
