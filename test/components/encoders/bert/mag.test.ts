// The bert encoder's hooks as a user writes them: BERT-MAG's gate on the embedding output (against plain-JS maths of
// MMSA's MAG on the same embeddings and weights), the pooled output, every hidden state as named outputs, and the shape
// rule's diagnostics for sequences that are not aligned to the tokens.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { compileFile } from '../../../../src/compiler/compile.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { TINY_CONFIG } from '../../../runtime/bert/helpers.js';
import { HOOK_B, HOOK_L, hookTokenRows, lin, writeTinyBert } from './hook-helpers.js';
import { randn } from '../../../runtime/nn/ref.js';
import { runInfer, seq, tokens, vec } from '../../../compiler/components/fake-context.js';
import { compileYaml, TINY } from '../../../runtime/lower/helpers.js';
import { expectCentralDifferences, lowerOne, value } from '../../helpers.js';

const H = TINY_CONFIG.hidden_size;
const B = HOOK_B;
const L = HOOK_L;
const DA = 5;
const DV = 6;
let dir = '';

beforeAll(async () => {
  await setupBackend('wasm');
  dir = writeTinyBert('mmsa-bert-mag-', 9);
});

const base = () => ({ type: 'bert', pretrained: dir, finetune: true, output: 'cls', hidden_states: true, config: TINY_CONFIG });
const mag = { type: 'mag', audio: 'audio', vision: 'vision', beta_shift: 0.7, dropout_prob: 0.3 };
const INPUTS: Array<[string, ReturnType<typeof tokens>]> = [['text', tokens(L)], ['audio', seq(L, DA, { aligned: true })], ['vision', seq(L, DV, { aligned: true })]];



describe('MAG hook', () => {
  it("rewrites the embedding output as MMSA's MAG does (eval mode), and publishes every hidden state", () => {
    const audio = tf.tensor3d(randn(61, B * L * DA), [B, L, DA]);
    const vision = tf.tensor3d(randn(62, B * L * DV), [B, L, DV]);
    // A zero audio and vision frame: the displacement h is then W_v/W_a's biases only, gated.
    const plain = lowerOne('encoder', { ...base(), hooks: undefined } as never, [['text', tokens(L)]]);
    const hooked = lowerOne('encoder', { ...base(), output: 'pooled', hooks: { embeddings: mag } } as never, INPUTS);
    expect(hooked.node.params.slice(-10).map((p) => [p.name, p.shape])).toEqual([
      ['MAG.W_hv.weight', [H, DV + H]], ['MAG.W_hv.bias', [H]], ['MAG.W_ha.weight', [H, DA + H]], ['MAG.W_ha.bias', [H]],
      ['MAG.W_v.weight', [H, DV]], ['MAG.W_v.bias', [H]], ['MAG.W_a.weight', [H, DA]], ['MAG.W_a.bias', [H]],
      ['MAG.LayerNorm.weight', [H]], ['MAG.LayerNorm.bias', [H]],
    ]);
    expect(Object.keys(hooked.node.features ?? {})).toEqual(['hidden_0', 'hidden_1', 'hidden_2']);
    // Biases away from 0 so that the check sees them.
    for (const k of ['W_hv', 'W_ha', 'W_v', 'W_a', 'LayerNorm']) {
      const v = hooked.store.get(`encoders.n.MAG.${k}.bias`);
      v.assign(tf.tensor1d(randn(k.length + 70, H).map((x) => 0.2 * x)));
    }
    const e = tf.tidy(() => plain.lowered.apply([value(hookTokenRows())], evalCtx()).outputs!['hidden_0']!.arraySync() as number[][][]);
    const out = hooked.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], evalCtx());
    const got = out.outputs!['hidden_0']!.arraySync() as number[][][];
    const W = (k: string) => hooked.values(`MAG.${k}`);
    const a = audio.arraySync();
    const v = vision.arraySync();
    let worst = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) {
        const et = e[b]![t]!;
        const gv = lin(W('W_hv.weight'), W('W_hv.bias'), [...v[b]![t]!, ...et]).map((x) => Math.max(0, x));
        const ga = lin(W('W_ha.weight'), W('W_ha.bias'), [...a[b]![t]!, ...et]).map((x) => Math.max(0, x));
        const wv = lin(W('W_v.weight'), W('W_v.bias'), v[b]![t]!);
        const wa = lin(W('W_a.weight'), W('W_a.bias'), a[b]![t]!);
        const h = gv.map((g, i) => g * wv[i]! + ga[i]! * wa[i]!);
        const norm = (x: number[]) => Math.sqrt(x.reduce((s, y) => s + y * y, 0));
        const hn = norm(h) === 0 ? 1 : norm(h);
        const alpha = Math.min((norm(et) / (hn + 1e-6)) * 0.7, 1);
        const s = h.map((x, i) => alpha * x + et[i]!);
        const mean = s.reduce((p, q) => p + q, 0) / H;
        const vr = s.reduce((p, q) => p + (q - mean) ** 2, 0) / H;
        const lw = W('LayerNorm.weight');
        const lb = W('LayerNorm.bias');
        s.forEach((x, i) => (worst = Math.max(worst, Math.abs(((x - mean) / Math.sqrt(vr + 1e-5)) * lw[i]! + lb[i]! - got[b]![t]![i]!))));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    // The gate moved the embeddings: the encoder read something else than the plain embedding output.
    expect(Math.abs(got[0]![1]![0]! - e[0]![1]![0]!)).toBeGreaterThan(1e-4);
    // pooled: tanh(dense([CLS] of the last layer)), the last hidden state's row 0.
    const last = out.outputs!['hidden_2']!.arraySync() as number[][][];
    const pw = hooked.values('pooler.dense.weight');
    const pb = hooked.values('pooler.dense.bias');
    const pooled = out.tensor.arraySync() as number[][];
    for (let b = 0; b < B; b++) {
      const want = lin(pw, pb, last[b]![0]!).map(Math.tanh);
      want.forEach((x, i) => expect(Math.abs(x - pooled[b]![i]!)).toBeLessThan(1e-5));
    }
    plain.dispose();
    hooked.dispose();
  });

  it("gradients through the gate (its weights, BERT's, the audio input) match central differences", () => {
    const hooked = lowerOne('encoder', { ...base(), output: 'pooled', hooks: { embeddings: mag } } as never, INPUTS);
    const audio = tf.variable(tf.tensor3d(randn(63, B * L * DA), [B, L, DA]));
    const vision = tf.tensor3d(randn(64, B * L * DV), [B, L, DV]);
    const r = tf.tensor2d(randn(65, B * H), [B, H]);
    const loss = () => tf.sum(tf.mul(hooked.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], evalCtx()).tensor, r)) as tf.Scalar;
    const vars = ['MAG.W_hv.weight', 'MAG.W_a.weight', 'MAG.LayerNorm.weight', 'encoder.layer.0.output.dense.weight'].map((k) => hooked.store.get(`encoders.n.${k}`));
    expectCentralDifferences(loss, [...vars, audio], 1e-2);
    hooked.dispose();
  });

  it('names the MAG inputs that are not sequences, or not as long as the token rows', () => {
    const def = getComponent('encoder', 'bert')!;
    const p = { ...base(), hooks: { embeddings: mag } } as never;
    const short = runInfer(def, p, [['text', tokens(L)], ['audio', seq(L - 2, DA, { aligned: true })], ['vision', seq(L, DV, { aligned: true })]]);
    expect(short.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(JSON.stringify(short.reports[0])).toContain("the MAG hook's audio sequence has 5 steps but the token rows have 7");
    const vector = runInfer(def, p, [['text', tokens(L)], ['audio', seq(L, DA, { aligned: true })], ['vision', vec(DV)]]);
    expect(vector.reports.map((r) => r.code)).toEqual(['MSA4002']);
  });

  it('reads its own modality and the hook\'s inputs; without hooks the modality of its key', () => {
    const def = getComponent('encoder', 'bert')!;
    expect(def.reads!({ ...base() } as never, 'text')).toBeUndefined();
    expect(def.reads!({ ...base(), hooks: { embeddings: mag } } as never, 'text')).toEqual([
      { name: 'modalities.text', path: [] },
      { name: 'audio', path: ['hooks', 'embeddings', 'audio'] },
      { name: 'vision', path: ['hooks', 'embeddings', 'vision'] },
    ]);
  });

  it('in a pipeline: reads text, audio and vision, publishes hidden_0..N that others resolve by name, plan shows the gate', () => {
    const spec = (head: string) => `version: 1
extends: bert_mag
${TINY('mosi', ', aligned: true')}
encoders:
  text:
    type: bert
    pretrained: ./no-download-needed
    hidden_states: true
    config: {vocab_size: 30522, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16}
    hooks: {embeddings: {type: mag, audio: audio, vision: vision, dropout_prob: 0.1}}
heads:
  M: {type: regression, input: '${head}', dropout: 0.1}
`;
    const ir = compileYaml(spec('text'), 'bert_mag_hidden');
    const text = ir.nodes.find((n) => n.id === 'encoders.text')!;
    expect(text.inputs).toEqual(['modalities.text', 'modalities.audio', 'modalities.vision']);
    expect(text.summary).toContain('MAG(audio, vision; beta_shift 1, dropout 0.1) on the embeddings');
    expect(Object.keys(text.features!)).toEqual(['hidden_0', 'hidden_1', 'hidden_2']);
    const codes = (head: string) => {
      const d = mkdtempSync(join(tmpdir(), 'mmsa-bert-mag-spec-'));
      writeFileSync(join(d, 'p.yaml'), spec(head));
      return compileFile(join(d, 'p.yaml'), { env: {} }).diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.message}`);
    };
    // A hidden state resolves (and is a sequence, which a regression head refuses); an unknown one is named.
    expect(codes('encoders.text:hidden_1')).toEqual([expect.stringMatching(/^MSA4002 .*'encoders\.text:hidden_1' is sequence \[B, 6, 16\]/)]);
    expect(codes('encoders.text:hidden_9')[0]).toMatch(/^MSA3001 /);
  });
});
