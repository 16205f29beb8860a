// Lowering of fusion 'mfn': per input an LSTMCell over all steps, the attention over [c_{t-1}; c_t] (softmax over its
// dims), c-hat, the gated memory; returns [h_T of every input; mem_T] (MMSA's `L`). Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { createLinear, joinPath } from '../../../runtime/nn/index.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import type { MfnFusion } from '../../../compiler/spec/types.generated.js';
import { applyTwoLayer, createLstmCell, gatedMemory, runLstmCell, shiftRight, type TwoLayer } from './nn.js';
import type { ForwardCtx, ParamStore } from '../../../runtime/nn/params.js';
import type { MfnCore } from './define.js';

export function createTwoLayer(store: ParamStore, path: string, inSize: number, cfg: { hidden: number; dropout: number }, out: number): TwoLayer {
  return { fc1: createLinear(store, `${path}_fc1`, inSize, cfg.hidden), fc2: createLinear(store, `${path}_fc2`, cfg.hidden, out), dropout: cfg.dropout };
}

/**
 * The MFN's layers under `path` (the fusion's node, or MFM's `mfn_encoder`) and its forward pass: returns
 * [h_T of every input; mem_T] (MMSA's `L`).
 */
export function createMfn(store: ParamStore, path: string, inDims: readonly number[], c: MfnCore): { apply(inputs: readonly tf.Tensor3D[], fctx: ForwardCtx): tf.Tensor2D } {
  const cells = c.inputs.map((n, i) => createLstmCell(store, joinPath(path, `lstm_${n}`), inDims[i]!, c.hidden[i]!));
  const att = 2 * c.hidden.reduce((s, h) => s + h, 0);
  const at = (name: string) => joinPath(path, name);
  const att1 = createTwoLayer(store, at('att1'), att, c.nn1, att);
  const att2 = createTwoLayer(store, at('att2'), att, c.nn2, c.memsize);
  const gamma1 = createTwoLayer(store, at('gamma1'), att + c.memsize, c.gamma1, c.memsize);
  const gamma2 = createTwoLayer(store, at('gamma2'), att + c.memsize, c.gamma2, c.memsize);
  return {
    apply(inputs, fctx) {
      const states = inputs.map((x, i) => runLstmCell(x, cells[i]!, { cells: true }));
      const cNow = tf.concat(states.map((s) => s.c!), 2) as tf.Tensor3D;
      const cStar = tf.concat([shiftRight(cNow), cNow], 2) as tf.Tensor3D;
      const attended = tf.mul(tf.softmax(applyTwoLayer(att1, cStar, fctx)), cStar) as tf.Tensor3D;
      const cHat = tf.tanh(applyTwoLayer(att2, attended, fctx)) as tf.Tensor3D;
      const mem = gatedMemory(attended, cHat, gamma1, gamma2, fctx);
      return tf.concat([...states.map((s) => s.last), mem], 1) as tf.Tensor2D;
    },
  };
}

export default defineNodeLowering<MfnFusion>('fusion', (node, ctx) => {
  const mfn = createMfn(ctx.store, node.id, ctx.inputs.map((i) => outDim(i)), node.config);
  return { apply: (inputs, fctx) => ({ tensor: mfn.apply(inputs.map((v) => v.tensor as tf.Tensor3D), fctx) }) };
});
