// Lowering of fusion 'graph_mfn': LSTMCells over all steps, singleton vertices from [h_{t-1}; h_t], the Dynamic
// Fusion Graph over every step at once, c-hat, the gated memory; returns [h_T of every input; mem_T]. Phase 6.

import * as tf from '@tensorflow/tfjs';
import { createLinear, joinPath, linearInit, type Initializer, type Linear } from '../../../runtime/nn/index.js';
import { defineNodeLowering, outDim } from '../../../runtime/lower/node.js';
import type { GraphMfnFusion } from '../../../compiler/spec/types.generated.js';
import type { ParamStore } from '../../../runtime/nn/params.js';
import { applyTwoLayer, createLstmCell, gatedMemory, runLstmCell } from '../mfn/nn.js';
import { createTwoLayer } from '../mfn/lower.js';
import { dfgInputSize, dfgLayout, dfgNodeName, type DfgNode, type Vertex } from './dfg.js';
import { DFG_WIDTH } from './define.js';

/** One initialiser whose first draw every later caller gets again (MMSA deep-copies one initialised pattern layer). */
function sharedInit(init: Initializer): Initializer {
  let first: Float32Array | undefined;
  return (shape, rng) => {
    first ??= init(shape, rng);
    return Float32Array.from(first);
  };
}

/** A Linear whose weight and bias are buffers: MMSA's unregistered node networks (never trained). */
function createFrozenLinear(store: ParamStore, path: string, inF: number, outF: number, init?: { w: Initializer; b: Initializer }): Linear {
  const weight = store.buffer(path, 'weight', [outF, inF], init?.w ?? linearInit(inF));
  const bias = store.buffer(path, 'bias', [outF], init?.b ?? linearInit(inF));
  return { path, inFeatures: inF, outFeatures: outF, weight, bias, apply: (x) => tf.add(tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D, false, true), bias) };
}

interface DfgNet {
  node: DfgNode;
  first: Linear;
  second: Linear;
}

export default defineNodeLowering<GraphMfnFusion>('fusion', (node, ctx) => {
  const c = node.config;
  const at = (name: string) => joinPath(node.id, name);
  const dims = c.hidden;
  const cells = c.inputs.map((n, i) => createLstmCell(ctx.store, at(`lstm_${n}`), outDim(ctx.inputs[i]!), dims[i]!));
  const transforms = c.inputs.map((n, i) => createLinear(ctx.store, at(`${n}_transform`), 2 * dims[i]!, dims[i]!));
  const layout = dfgLayout(c.inputs.length);
  const inner = c.inner_node_dim;
  const pattern = { w: sharedInit(linearInit(DFG_WIDTH)), b: sharedInit(linearInit(DFG_WIDTH)) };
  const net = (n: DfgNode, path: string, trainable: boolean): DfgNet => {
    const inF = dfgInputSize(n.reads, dims, inner);
    if (trainable) {
      return {
        node: n,
        first: createLinear(ctx.store, `${path}.0`, inF, DFG_WIDTH),
        second: createLinear(ctx.store, `${path}.1.0`, DFG_WIDTH, inner, { weightInit: pattern.w, biasInit: pattern.b }),
      };
    }
    return { node: n, first: createFrozenLinear(ctx.store, `${path}.0`, inF, DFG_WIDTH), second: createFrozenLinear(ctx.store, `${path}.1.0`, DFG_WIDTH, inner, pattern) };
  };
  const nets = layout.nodes.map((n) => net(n, at(`dfg.${dfgNodeName(n.key)}`), c.train_node_networks));
  const top = net(layout.top, at('dfg.t_network'), true);
  const total = dims.reduce((s, d) => s + d, 0);
  const eff = [
    createLinear(ctx.store, at('dfg.efficacy_model.0'), total, DFG_WIDTH),
    createLinear(ctx.store, at('dfg.efficacy_model.1.0'), DFG_WIDTH, inner),
    createLinear(ctx.store, at('dfg.efficacy_model.2'), inner, layout.efficacies),
  ];
  const att2 = createTwoLayer(ctx.store, at('att2'), inner, c.nn, c.memsize);
  const gamma1 = createTwoLayer(ctx.store, at('gamma1'), inner + c.memsize, c.gamma1, c.memsize);
  const gamma2 = createTwoLayer(ctx.store, at('gamma2'), inner + c.memsize, c.gamma2, c.memsize);

  /** The graph over N rows of singleton vertices (N = B x T): the top network's output, N x inner. */
  const graph = (singletons: tf.Tensor2D[]): tf.Tensor2D => {
    const efficacies = eff.reduce<tf.Tensor>((x, l) => l.apply(x), tf.concat(singletons, 1));
    const gate = (j: number) => tf.slice(efficacies, [0, j], [-1, 1]);
    const outputs = new Map<string, tf.Tensor>(singletons.map((s, i) => [String(i), s]));
    const run = (n: DfgNet): tf.Tensor => {
      const input = tf.concat(n.node.reads.map((v: Vertex, y) => tf.mul(outputs.get(v.join('_'))!, gate(n.node.efficacy + y))), 1);
      return n.second.apply(n.first.apply(input));
    };
    for (const n of nets) outputs.set(n.node.key.join('_'), run(n));
    return run(top) as tf.Tensor2D;
  };

  return {
    apply(inputs, fctx) {
      const states = inputs.map((v, i) => runLstmCell(v.tensor as tf.Tensor3D, cells[i]!));
      const [B, T] = states[0]!.h.shape;
      const singletons = states.map((s, i) => tf.reshape(tf.relu(transforms[i]!.apply(tf.concat([s.hPrev, s.h], 2))), [B * T, dims[i]!]) as tf.Tensor2D);
      const attended = tf.reshape(graph(singletons), [B, T, inner]) as tf.Tensor3D;
      const cHat = tf.tanh(applyTwoLayer(att2, attended, fctx)) as tf.Tensor3D;
      const mem = gatedMemory(attended, cHat, gamma1, gamma2, fctx);
      return { tensor: tf.concat([...states.map((s) => s.last), mem], 1) };
    },
  };
});
