// Lowering of fusion 'c_gate' (TFR-Net's C_GATE per sequence, models/missingTask/TFR_NET/fusion.py): GRU outputs h
// (packed to the mask's first 0, zeros after), gate = sigmoid(Conv1d(2H -> 1, k 3, pad 1)(h)), rep = tanh(fc([x,
// tanh(h) * gate])), the max over every step (padding included, as MMSA), dropout; the vectors concatenated. Phase 6.

import * as tf from '@tensorflow/tfjs';
import type { CGateFusion } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import { createConv1d } from '../../../runtime/nn/conv.js';
import { createLinear, dropout } from '../../../runtime/nn/layers.js';
import { createGru } from '../../../runtime/nn/rnn.js';
import { cGateName } from './define.js';

/** MMSA's `argmin(cat([mask, 0]))`: the first position whose mask is 0 (the row's length when it has no padding). */
export function lengthsOfMask(mask: tf.Tensor): Int32Array {
  const [B, T] = mask.shape as [number, number];
  const m = mask.dataSync();
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let len = T;
    for (let t = 0; t < T; t++) {
      if (m[b * T + t]! <= 0) {
        len = t;
        break;
      }
    }
    out[b] = len;
  }
  return out;
}

export default defineNodeLowering<CGateFusion>('fusion', (node, ctx) => {
  const p = node.config;
  const n = ctx.inputs.length / 2;
  const blocks = Array.from({ length: n }, (_, i) => {
    const d = outDim(ctx.inputs[i]!);
    const h = p.hidden[i]!;
    const pre = `${node.id}.${cGateName(p, i)}_encoder`;
    return {
      gru: createGru(ctx.store, `${pre}.gru.gru`, { inputSize: d, hiddenSize: h, numLayers: p.gru_layers, bidirectional: true }),
      cnn: createConv1d(ctx.store, `${pre}.cnn`, 2 * h, 1, 3),
      fc: createLinear(ctx.store, `${pre}.fc`, 2 * h + d, h),
    };
  });
  return {
    apply(inputs, fctx) {
      const reps = blocks.map((b, i) => {
        const x = inputs[i]!.tensor as tf.Tensor3D;
        const lengths = lengthsOfMask(inputs[n + i]!.tensor);
        const hs = b.gru.apply(x, fctx, { lengths, returnOutputs: true }).outputs!;
        const gate = tf.sigmoid(b.cnn.apply(hs, 'same'));
        const gated = tf.mul(tf.tanh(hs), gate);
        const rep = tf.tanh(b.fc.apply(tf.concat([x, gated], 2)));
        return dropout(tf.max(rep, 1), p.dropout, fctx);
      });
      return { tensor: tf.concat(reps, 1) };
    },
  };
});
