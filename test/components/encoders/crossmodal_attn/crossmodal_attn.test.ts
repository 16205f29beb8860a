// Encoder 'crossmodal_attn' (TFR-Net's alignment) with conv1d projections (padding): equal to MMSA's own CM_ATTN
// (models/missingTask/TFR_NET/alignment.py, fixture by tools/make-tfr-net-fixtures.py) with its weights loaded by
// MMSA's names, every sequence and final output; the final transformers attend over the batch (MMSA) or over each
// sample's channels; gradients; shape errors.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { sequenceType } from '../../../../src/components/shape-helpers.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, value } from '../../helpers.js';
import type { LoweredNode } from '../../../../src/runtime/lower/node.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

type Json = { shape: number[]; values: number[] };
interface Seq {
  name: string;
  steps: number;
  features: number;
  kernel: number;
  x: number[];
}
const fx = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/tfr-net/cm-attn.json'), 'utf8')) as {
  B: number;
  d: number;
  heads: number;
  nlevels: number;
  num_temporal_head: number;
  seqs: Seq[];
  outputs: Record<string, Json>;
  state: Record<string, Json>;
};
const LETTER: Record<string, string> = { text: 'l', audio: 'a', vision: 'v' };
/** MMSA's name of a local parameter: text_with_audio.x -> trans_l_with_a.x, text_mem.x -> trans_l_mem.x. */
const mmsaName = (local: string): string =>
  local.replace(/^(text|audio|vision)(_with_(text|audio|vision)|_mem|_final)/, (_, t: string, rest: string, s?: string) => `trans_${LETTER[t]}${s ? `_with_${LETTER[s]}` : rest}`);

function align(over: 'batch' | 'channels', attnMask = true) {
  return {
    type: 'crossmodal_attn', inputs: ['text', 'audio', 'vision'], heads: fx.heads, layers: fx.nlevels, memory_layers: null,
    attn_dropout: { text: 0.2, audio: 0.1, vision: 0 }, memory_attn_dropout: 0.2, relu_dropout: 0.2, res_dropout: 0.2, embed_dropout: 0.2,
    attn_mask: attnMask, positions: true, final: { heads: fx.num_temporal_head, layers: null, attn_dropout: 0.2, attend_over: over },
  };
}

function loadAlign(over: 'batch' | 'channels') {
  const n = lowerOne('encoder', align(over), fx.seqs.map((s) => [s.name, sequenceType(s.steps, fx.d)]));
  for (const p of n.node.params) {
    const w = fx.state[mmsaName(p.name)];
    expect(w, p.name).toBeDefined();
    expect(w!.shape, p.name).toEqual(p.shape);
    n.store.get(`encoders.n.${p.name}`).assign(tf.tensor(w!.values, w!.shape));
  }
  return n;
}

function expectClose(t: tf.Tensor, want: Json, tol: number, what: string): void {
  expect(t.shape, what).toEqual(want.shape);
  const got = t.dataSync();
  let worst = 0;
  want.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v))));
  expect(worst, what).toBeLessThan(tol);
}

describe('crossmodal_attn encoder', () => {
  it("equals MMSA's CM_ATTN with MMSA's weights: padded conv projections, every sequence and final output", () => {
    const { B, d } = fx;
    // CM_ATTN's proj_x: Conv1d(kernel k, padding (k - 1) / 2, no bias).
    const projected = fx.seqs.map((s) => {
      const c = lowerOne('encoder', { type: 'conv1d', out: d, kernel: s.kernel, padding: (s.kernel - 1) / 2, bias: false, dropout: 0.2, max_over_time: false }, [[s.name, sequenceType(s.steps, s.features)]]);
      const w = fx.state[`proj_${LETTER[s.name]}.weight`]!;
      c.store.get('encoders.n.weight').assign(tf.tensor(w.values, w.shape));
      const y = c.lowered.apply([value(tf.tensor3d(s.x, [B, s.steps, s.features]))], evalCtx()).tensor;
      expect(y.shape).toEqual([B, s.steps, d]);
      c.dispose();
      return value(y);
    });
    const n = loadAlign('batch');
    // Every tensor MMSA saves has a parameter of the same name and shape here, but for the buffers nothing reads.
    const ignored = getComponent('encoder', 'crossmodal_attn')!.mmsaNames!.ignore as (p: unknown) => string[];
    const skip = new Set(ignored(align('batch')).map(mmsaName));
    const theirs = Object.keys(fx.state).filter((k) => !k.startsWith('proj_') && !skip.has(k)).sort();
    expect(n.node.params.map((p) => mmsaName(p.name)).sort()).toEqual(theirs);
    const out = n.lowered.apply(projected, evalCtx());
    for (const s of fx.seqs) {
      expectClose(out.outputs![`h_${s.name}`]!, fx.outputs[`${s.name}_h`]!, 2e-5, `h_${s.name}`);
      expectClose(out.outputs![`final_${s.name}`]!, fx.outputs[`${s.name}_final`]!, 2e-5, `final_${s.name}`);
    }
    expect(out.tensor).toBe(out.outputs!.h_text);
    n.dispose();
  });

  it('attends over the batch as MMSA (row b sees rows up to b under the causal mask), or over each sample alone', () => {
    const xs = fx.seqs.map((s) => tf.randomNormal([3, s.steps, fx.d], 0, 1, 'float32', s.steps) as tf.Tensor3D);
    // The same samples with the first row replaced.
    const ys = xs.map((x, i) => tf.concat([tf.randomNormal([1, x.shape[1], fx.d], 0, 1, 'float32', 99 + i), tf.slice(x, [1, 0, 0], [2, -1, -1])]));
    for (const over of ['batch', 'channels'] as const) {
      const n = loadAlign(over);
      const a = n.lowered.apply(xs.map((x) => value(x)), evalCtx()).outputs!.final_audio!;
      const b = n.lowered.apply(ys.map((x) => value(x)), evalCtx()).outputs!.final_audio!;
      const diff = tf.max(tf.abs(tf.sub(tf.slice(a, [1, 0, 0], [2, -1, -1]), tf.slice(b, [1, 0, 0], [2, -1, -1])))).dataSync()[0]!;
      // The other rows' h_audio do not change (every sample's alignment is its own), only what the batch adds.
      if (over === 'batch') expect(diff).toBeGreaterThan(1e-3);
      else expect(diff).toBeLessThan(1e-6);
      n.dispose();
    }
  });

  it('passes gradients to every parameter', () => {
    const P = { ...align('batch'), heads: 2, layers: 1, memory_layers: 1, relu_dropout: 0, res_dropout: 0, embed_dropout: 0, attn_dropout: 0, memory_attn_dropout: 0, final: { heads: 2, layers: 1, attn_dropout: 0, attend_over: 'batch' } };
    // Lengths of 6 and 8: the final transformers' LayerNorms run over that many values.
    const n = lowerOne('encoder', { ...P, inputs: ['a', 'b'] }, [['a', sequenceType(6, 4)], ['b', sequenceType(8, 4)]]);
    const inputs = [value(tf.randomNormal([3, 6, 4], 0, 1, 'float32', 1)), value(tf.randomNormal([3, 8, 4], 0, 1, 'float32', 2))];
    // Every named output flattened into one, so the final transformers' parameters get their gradients too.
    const all: LoweredNode = { apply: (ins, c) => ({ tensor: tf.concat(Object.values(n.lowered.apply(ins, c).outputs!).map((t) => tf.reshape(t, [-1])), 0) }) };
    expect(gradError(checkParamGradient(all, n.store, inputs))).toBeLessThan(2e-2);
    n.dispose();
  });

  it('refuses inputs of different widths and final heads that do not divide a length', () => {
    const def = getComponent('encoder', 'crossmodal_attn')!;
    const widths = runInfer(def, align('batch'), [['text', sequenceType(6, 6)], ['audio', sequenceType(8, 4)], ['vision', sequenceType(4, 6)]], 'encoders.align');
    expect(widths.result).toBeUndefined();
    expect(widths.reports.map((r) => r.code)).toEqual(['MSA4004']);
    const heads = runInfer(def, align('batch'), [['text', sequenceType(6, 6)], ['audio', sequenceType(7, 6)], ['vision', sequenceType(4, 6)]], 'encoders.align');
    expect(heads.result).toBeUndefined();
    expect(heads.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(String(heads.reports[0]!.args?.detail)).toContain("7 steps of 'audio'");
  });
});
