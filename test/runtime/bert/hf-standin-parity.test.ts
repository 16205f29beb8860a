// mmsa's BERT against the Hugging Face-layout PyTorch BertModel of the fixture tooling (tools/hf-bert, the model MMSA's
// own BERT code runs on when the parity fixtures are made): the same small checkpoint, the same padded rows, every
// hidden state, the last layer and the pooler agree within 1e-5.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBert } from '../../../src/runtime/bert/load-bert.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { evalCtx } from '../../../src/runtime/nn/params.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf-bert');
interface StandinOutputs {
  config: { num_hidden_layers: number; hidden_size: number };
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  last_hidden_state: number[][][];
  pooler_output: number[][];
  hidden_states: number[][][][];
}
const ref = JSON.parse(readFileSync(join(fixtures, 'standin-outputs.json'), 'utf8')) as StandinOutputs;

function maxAbsDiff(t: tf.Tensor, want: unknown): number {
  const w = (want as number[]).flat(3) as number[];
  const got = t.dataSync();
  expect(got.length).toBe(w.length);
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(got[i]! - w[i]!));
  return m;
}

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('Hugging Face-layout stand-in parity', () => {
  it('loads the small HF-layout checkpoint and reproduces the stand-in\'s hidden states, last layer and pooler within 1e-5', async () => {
    const bert = await loadBert(join(fixtures, 'small-bert'), { backend: false, trainable: false });
    expect(bert.config.hidden_size).toBe(128);
    expect(bert.checkpoint.missingOptional).toEqual([]);
    tf.tidy(() => {
      const ids = tf.tensor2d(ref.input_ids, undefined, 'int32');
      const mask = tf.tensor2d(ref.attention_mask);
      const types = tf.tensor2d(ref.token_type_ids, undefined, 'int32');
      const out = bert.model.apply(ids, mask, types, evalCtx(), { hiddenStates: true });
      expect(out.hidden).toHaveLength(ref.config.num_hidden_layers + 1);
      const diffs = out.hidden!.map((h, i) => maxAbsDiff(h, ref.hidden_states[i]));
      for (const d of diffs) expect(d).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.sequence, ref.last_hidden_state)).toBeLessThan(1e-5);
      expect(maxAbsDiff(bert.model.pool(out.cls), ref.pooler_output)).toBeLessThan(1e-5);
      // Padded positions too (row 3 has one real token): HF computes them, and so does mmsa.
      expect(Array.from(out.hidden![ref.config.num_hidden_layers]!.dataSync())).toEqual(Array.from(out.sequence.dataSync()));
    });
    bert.dispose();
  });
});
