// Lowering of fusion 'mfn': per input an LSTMCell over all steps, the attention over [c_{t-1}; c_t] (softmax over its
// dims), c-hat, the gated memory; returns [h_T of every input; mem_T] (MMSA's `L`). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, joinPath } from '../../../runtime/nn/index.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import type { MfnFusion } from '../../../compiler/spec/types.generated.js';
import { applyTwoLayer, createLstmCell, gatedMemory, runLstmCell, shiftRight, type TwoLayer } from './nn.js';
import type { ParamStore } from '../../../runtime/nn/params.js';

export function createTwoLayer(store: ParamStore, path: string, inSize: number, cfg: { hidden: number; dropout: number }, out: number): TwoLayer {
  return { fc1: createLinear(store, `${path}_fc1`, inSize, cfg.hidden), fc2: createLinear(store, `${path}_fc2`, cfg.hidden, out), dropout: cfg.dropout };
}

export default defineNodeLowering<MfnFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const cells = c.inputs.map((n, i) => createLstmCell(ctx.store, joinPath(node.id, `lstm_${n}`), outDim(ctx.inputs[i]!), c.hidden[i]!));
  const att = 2 * c.hidden.reduce((s, h) => s + h, 0);
  const at = (name: string) => joinPath(node.id, name);
  const att1 = createTwoLayer(ctx.store, at('att1'), att, c.nn1, att);
  const att2 = createTwoLayer(ctx.store, at('att2'), att, c.nn2, c.memsize);
  const gamma1 = createTwoLayer(ctx.store, at('gamma1'), att + c.memsize, c.gamma1, c.memsize);
  const gamma2 = createTwoLayer(ctx.store, at('gamma2'), att + c.memsize, c.gamma2, c.memsize);
  return {
    apply(inputs, fctx) {
      const states = inputs.map((v, i) => runLstmCell(v.tensor as tf.Tensor3D, cells[i]!, { cells: true }));
      const cNow = tf.concat(states.map((s) => s.c!), 2) as tf.Tensor3D;
      const cStar = tf.concat([shiftRight(cNow), cNow], 2) as tf.Tensor3D;
      const attended = tf.mul(tf.softmax(applyTwoLayer(att1, cStar, fctx)), cStar) as tf.Tensor3D;
      const cHat = tf.tanh(applyTwoLayer(att2, attended, fctx)) as tf.Tensor3D;
      const mem = gatedMemory(attended, cHat, gamma1, gamma2, fctx);
      return { tensor: tf.concat([...states.map((s) => s.last), mem], 1) };
    },
  };
});
