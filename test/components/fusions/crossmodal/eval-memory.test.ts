// Fusion 'crossmodal' (MulT, TETFN): the memory plan's evaluation estimate of the node against the live bytes its real
// forward holds on the wasm backend. Evaluation runs the whole forward in one tf.tidy scope, so every layer's
// intermediates stay until the end: the estimate must count all of them, the memories' layers included. Calibrated
// with mmsa's native kernels (built at install), as the plan's other estimates are; wasm alone (MMSA_NATIVE=0) composes
// every LayerNorm of tensor ops and holds more (these tests are skipped there).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import type { Ir, IrNode } from '../../../../src/compiler/ir/types.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { trackWasmHeap, type HeapTracker } from '../../../../src/runtime/memory/heap-tracker.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { nativeDisabled } from '../../../helpers/native.js';
import { lowerOne, seq, value } from '../../helpers.js';

let heap: HeapTracker;

beforeAll(async () => {
  await setupBackend('wasm', { native: nativeDisabled ? 'off' : 'on' });
  heap = trackWasmHeap(tf.backend());
});
afterAll(() => heap.stop());

const B = 3;
const T = [6, 10, 14];
const d = 8;

/** The node's evaluation estimate for batch B, and the peak live bytes of its forward in eval mode in one tf.tidy. */
function evalMemory(params: Record<string, unknown> & { type: 'crossmodal' }): { estimate: number; measured: number } {
  const names = ['a', 'b', 'c'];
  const n = lowerOne('fusion', params, names.map((name, i) => [name, seq(T[i]!, d)]), 3);
  try {
    const inputs: IrNode[] = names.map((name, i) => ({ ...n.node, id: `modalities.${name}`, kind: 'input', type: name, inputs: [], output: seq(T[i]!, d), params: [], config: {} }));
    const ir = { nodes: [...inputs, n.node] } as unknown as Ir;
    const estimate = getComponent('fusion', 'crossmodal')!.stepMemory!(n.node, { ir, batch: B, mode: 'keep', frozen: false }).eval;
    const xs = T.map((t, i) => tf.randomNormal([B, t, d], 0, 1, 'float32', 10 + i));
    try {
      const base = heap.live();
      heap.resetPeak();
      tf.tidy(() => {
        n.lowered.apply(xs.map((x) => value(x)), evalCtx());
      });
      return { estimate, measured: heap.peak() - base };
    } finally {
      tf.dispose(xs);
    }
  } finally {
    n.dispose();
  }
}

const MULT = {
  type: 'crossmodal' as const, inputs: ['a', 'b', 'c'], heads: 2, layers: 3, memory_layers: 2, attn_dropout: { a: 0.3, b: 0.2, c: 0 },
  memory_attn_dropout: 0.3, relu_dropout: 0.1, res_dropout: 0.1, embed_dropout: 0.2, attn_mask: true,
};

describe.skipIf(nativeDisabled)('crossmodal evaluation memory', () => {
  it("counts every cross-modal and memory layer's intermediates, as its forward holds them in one tf.tidy", () => {
    // The largest layer alone (what the estimate used to count) is about a fifth of the forward's peak here.
    const m = evalMemory(MULT);
    expect(m.estimate).toBeGreaterThanOrEqual(m.measured);
    expect(m.estimate).toBeLessThan(1.25 * m.measured);
    // A layer more in each encoder is counted as the forward holds it.
    const more = evalMemory({ ...MULT, layers: 4, memory_layers: 3 });
    expect(more.measured).toBeGreaterThan(1.2 * m.measured);
    expect(more.estimate).toBeGreaterThanOrEqual(more.measured);
    expect(more.estimate).toBeLessThan(1.25 * more.measured);
  });

  it("counts TETFN's text-enhanced blocks (lower and upper encoders, positions) the same way", () => {
    const m = evalMemory({ ...MULT, text_enhanced: { via: 'a', lower_layers: 2, upper_source_positions: 'steps' } });
    expect(m.estimate).toBeGreaterThanOrEqual(m.measured);
    expect(m.estimate).toBeLessThan(1.25 * m.measured);
  });
});
