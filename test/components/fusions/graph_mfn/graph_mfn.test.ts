// Fusion 'graph_mfn' (Graph-MFN): the Dynamic Fusion Graph's layout as MMSA builds it, and MMSA's quirk that the node
// networks are never trained (buffers here, unless train_node_networks), with MMSA's shared initial pattern layer.
// Forward parity with MMSA's own model is proven by the checkpoint fixtures (test/cli/import-commands.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { dfgInputSize, dfgLayout, subsetsBySize } from '../../../../src/components/fusions/graph_mfn/dfg.js';
import { lowerOne, seq, value } from '../../helpers.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('dfg layout', () => {
  it('three inputs: the powerset order and 19 efficacies of MMSA', () => {
    expect(subsetsBySize([0, 1, 2])).toEqual([[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
    const l = dfgLayout(3);
    expect(l.efficacies).toBe(19);
    expect(l.nodes.map((n) => [n.key, n.reads, n.efficacy])).toEqual([
      [[0, 1], [[0], [1]], 0],
      [[0, 2], [[0], [2]], 2],
      [[1, 2], [[1], [2]], 4],
      [[0, 1, 2], [[0], [1], [2], [0, 1], [0, 2], [1, 2]], 6],
    ]);
    expect(l.top.efficacy).toBe(12);
    expect(l.top.reads).toHaveLength(7);
    // MMSA's t_in_dimension: the unimodal sizes plus (2^n - n - 1) inner vectors.
    expect(dfgInputSize(l.top.reads, [256, 32, 256], 64)).toBe(544 + 4 * 64);
    expect(dfgLayout(4).efficacies).toBe(65);
  });
});

describe('fusion graph_mfn', () => {
  const params = { type: 'graph_mfn', inputs: ['a', 'b', 'c'], hidden: [4, 3, 2], memsize: 5, inner_node_dim: 6, nn: { hidden: 4, dropout: 0 }, gamma1: { hidden: 3, dropout: 0 }, gamma2: { hidden: 2, dropout: 0 }, train_node_networks: false };
  const inputs: Array<[string, ReturnType<typeof seq>]> = [['a', seq(5, 3, { aligned: true })], ['b', seq(5, 2, { aligned: true })], ['c', seq(5, 4, { aligned: true })]];

  it('keeps the node networks untrained (buffers) by default, sharing the pattern layer of MMSA', () => {
    const n = lowerOne('fusion', params, inputs);
    const nodes = n.store.entries().filter((e) => e.key.includes('.networks.'));
    expect(nodes).toHaveLength(16);
    expect(nodes.every((e) => e.buffer && !e.trainable)).toBe(true);
    expect(n.store.entries().filter((e) => !e.buffer).every((e) => e.trainable)).toBe(true);
    // MMSA deep-copies one initialised Linear(100 -> inner) into every node network and the top network.
    expect(n.values('dfg.networks.0_1.1.0.weight')).toEqual(n.values('dfg.t_network.1.0.weight'));
    expect(n.values('dfg.networks.0_1_2.1.0.bias')).toEqual(n.values('dfg.t_network.1.0.bias'));
    expect(n.values('dfg.networks.0_1.0.weight')).not.toEqual(n.values('dfg.networks.0_2.0.weight').slice(0, 100 * 7));
    const out = n.lowered.apply([value(tf.randomNormal([2, 5, 3])), value(tf.randomNormal([2, 5, 2])), value(tf.randomNormal([2, 5, 4]))], evalCtx()).tensor;
    expect(out.shape).toEqual([2, 4 + 3 + 2 + 5]);
    n.dispose();
  });

  it('train_node_networks: true makes them parameters that receive gradients', () => {
    const n = lowerOne('fusion', { ...params, train_node_networks: true }, inputs);
    const nodes = n.store.entries().filter((e) => e.key.includes('.networks.'));
    expect(nodes.every((e) => !e.buffer && e.trainable)).toBe(true);
    const xs = [value(tf.randomNormal([2, 5, 3])), value(tf.randomNormal([2, 5, 2])), value(tf.randomNormal([2, 5, 4]))];
    const g = tf.variableGrads(() => tf.sum(n.lowered.apply(xs, evalCtx()).tensor) as tf.Scalar, nodes.map((e) => e.variable));
    for (const t of Object.values(g.grads)) expect(tf.max(tf.abs(t)).dataSync()[0]).toBeGreaterThan(0);
    n.dispose();
  });
});
