// The bert encoder's `also`: one BERT (one set of parameters) over several token modalities, as TFR-Net runs its
// BertTextEncoder over text_m and text. Each run equals the encoder run on that modality alone with the same
// weights; gradients of both runs reach the shared parameters; the shape rule's checks.
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
import { HOOK_B, HOOK_L, hookTokenRows, writeTinyBert } from './hook-helpers.js';
import { runInfer, seq, tokens } from '../../../compiler/components/fake-context.js';
import { lowerOne, value } from '../../helpers.js';

let dir = '';
beforeAll(async () => {
  await setupBackend('wasm');
  dir = writeTinyBert('mmsa-bert-also-', 13);
});

const base = () => ({ type: 'bert', pretrained: dir, finetune: true, freeze_embeddings: false, output: 'sequence', hidden_states: false, config: TINY_CONFIG });

/** hookTokenRows() with some real tokens replaced by one id (MMSA's loader writes [UNK], 100, into text_m; the tiny vocabulary has 40). */
const UNK = 17;
function maskedRows(): tf.Tensor {
  const rows = hookTokenRows().arraySync() as number[][][];
  rows[0]![0]![2] = UNK;
  rows[1]![0]![4] = UNK;
  rows[1]![0]![5] = UNK;
  return tf.tensor3d(rows, [HOOK_B, 3, HOOK_L], 'int32');
}

describe('bert also', () => {
  it('runs the same weights over every modality: each output equals the encoder run on it alone', () => {
    const two = lowerOne('encoder', { ...base(), also: ['text_m'] }, [['text', tokens(HOOK_L)], ['text_m', tokens(HOOK_L)]]);
    const one = lowerOne('encoder', { ...base(), also: [] }, [['text', tokens(HOOK_L)]]);
    // One set of parameters, the plain encoder's.
    expect(two.node.params).toEqual(one.node.params);
    expect(Object.keys(two.node.features ?? {})).toEqual(['text_m']);
    expect(two.node.features!.text_m!.shape).toEqual(['B', HOOK_L, TINY_CONFIG.hidden_size]);
    const text = hookTokenRows();
    const textM = maskedRows();
    const out = two.lowered.apply([value(text), value(textM)], evalCtx());
    const plain = (rows: tf.Tensor) => one.lowered.apply([value(rows)], evalCtx()).tensor.dataSync();
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    expect(diff(out.tensor.dataSync(), plain(text))).toBeLessThan(1e-6);
    expect(diff(out.outputs!.text_m!.dataSync(), plain(textM))).toBeLessThan(1e-6);
    // The masked tokens change the output, so the two runs really read their own rows.
    expect(diff(out.outputs!.text_m!.dataSync(), out.tensor.dataSync())).toBeGreaterThan(1e-3);
    two.dispose();
    one.dispose();
  });

  it('sends the gradients of both runs to the one word table', () => {
    const n = lowerOne('encoder', { ...base(), also: ['text_m'] }, [['text', tokens(HOOK_L)], ['text_m', tokens(HOOK_L)]]);
    const words = n.store.get('encoders.n.embeddings.word_embeddings.weight') as tf.Variable;
    const gradOf = (pick: 'text' | 'text_m') =>
      tf.variableGrads(() => {
        const o = n.lowered.apply([value(hookTokenRows()), value(maskedRows())], evalCtx());
        return tf.sum(pick === 'text' ? o.tensor : o.outputs!.text_m!) as tf.Scalar;
      }, [words]).grads[words.name]!;
    const rowNorm = (g: tf.Tensor, id: number) => tf.norm(tf.slice(g, [id, 0], [1, -1])).dataSync()[0]!;
    // UNK is only in text_m; token 9 (row 0) and 22, 31 (row 1) only in the text.
    const gM = gradOf('text_m');
    const gT = gradOf('text');
    expect(rowNorm(gM, UNK)).toBeGreaterThan(0);
    expect(rowNorm(gM, 9)).toBe(0);
    expect(rowNorm(gT, UNK)).toBe(0);
    expect(rowNorm(gT, 9)).toBeGreaterThan(0);
    n.dispose();
  });

  it('reads token rows only, its own modality first', () => {
    const def = getComponent('encoder', 'bert')!;
    const bad = runInfer(def, { ...base(), also: ['audio'] }, [['text', tokens(HOOK_L)], ['audio', seq(5, 3)]]);
    expect(bad.result).toBeUndefined();
    expect(bad.reports.map((r) => r.code)).toEqual(['MSA4002']);
    expect(def.reads!({ ...base(), also: ['text_m'] } as never, 'text')).toEqual([
      { name: 'modalities.text', path: [] },
      { name: 'modalities.text_m', path: ['also', 0] },
    ]);
  });

  it('compiles in a pipeline: the masked copy is a modality of its own, its output a named output heads read', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mmsa-bert-also-spec-')), 'pipeline.yaml');
    writeFileSync(file, [
      'version: 1',
      'extends: mmsa_defaults',
      'dataset: {type: synthetic, like: mosi, aligned: false, n_train: 32, n_valid: 8, n_test: 8, seed: 1, seq_lens: {text: 16, audio: 20, vision: 12}}',
      'modalities:',
      '  text: {feature: text_bert}',
      '  text_m: {feature: text_bert, missing: {rate: 0.3, seed: 1111}}',
      'encoders:',
      '  text: {type: bert, pretrained: bert-base-uncased, output: cls, also: [text_m]}',
      'heads:',
      '  M: {type: regression, input: text}',
      "  N: {type: regression, input: 'encoders.text:text_m'}",
      'tasks:',
      '  main: {type: l1, head: M, target: M}',
      '  masked: {type: l1, head: N, target: M}',
      'eval: {metrics: mosi, head: M}',
    ].join('\n'));
    const r = compileFile(file, { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const bert = r.ir!.nodes.find((n) => n.id === 'encoders.text')!;
    expect(bert.inputs).toEqual(['modalities.text', 'modalities.text_m']);
    expect(bert.features!.text_m!.shape).toEqual(['B', 768]);
    expect(r.ir!.nodes.find((n) => n.id === 'heads.N')!.inputs).toEqual(['encoders.text:text_m']);
  });
});
