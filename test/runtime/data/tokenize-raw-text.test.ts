// A feature file with raw text but no text_bert rows (new data to predict on) is tokenised with the BERT
// encoder's own tokenizer, padded to the compiled length.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { int64Array, ndarray, writePickleFile } from '../../../src/runtime/data/pickle/write-pickle.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad', 'movie', 'the', 'was', '##s', 'film'];

describe('text_bert from raw text', () => {
  it('tokenises raw_text with the encoder tokenizer when the file has no text_bert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-rawtext-'));
    const bert = join(dir, 'bert');
    mkdirSync(bert);
    writeFileSync(join(bert, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    writeFileSync(join(bert, 'config.json'), JSON.stringify({ vocab_size: VOCAB.length, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 }));
    const split = (n: number, texts: string[]) => ({
      raw_text: texts,
      audio: ndarray(new Float32Array(n * 4 * 3).fill(1), [n, 4, 3]),
      audio_lengths: int64Array(new Array<number>(n).fill(4)),
      regression_labels: ndarray(new Float32Array(n), [n]),
    });
    writePickleFile(join(dir, 'data.pkl'), { train: split(2, ['The movie was good', 'bad films']), valid: split(1, ['good']), test: split(1, ['unknownword bad']) });
    writeFileSync(join(dir, 'spec.yaml'), `version: 1
dataset:
  path: ./data.pkl
  features:
    text_bert: {key: text_bert, shape: [3, 8], dtype: int}
    audio: {key: audio, shape: [4, 3], lengths: audio_lengths}
    raw_text: {key: raw_text, dtype: str}
  labels: {M: regression_labels}
modalities:
  text: {feature: text_bert}
  audio: {feature: audio}
encoders:
  text: {type: bert, pretrained: ./bert, config: {vocab_size: 12, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16}}
  audio: {type: lstm, hidden: 4}
fusion: {type: concat, inputs: [text, audio]}
heads:
  M: {type: regression, input: fusion}
tasks:
  main: {type: l1, head: M}
`);
    const r = compileFile(join(dir, 'spec.yaml'), { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // The model directory is relative to the spec, wherever the process runs.
    expect(r.ir!.nodes.find((n) => n.id === 'encoders.text')!.config['pretrained']).toBe(join(dir, 'bert'));
    {
      const data = await loadDataset(r.ir!);
      const t = data.train.features['text']!;
      expect(t.shape).toEqual([2, 3, 8]);
      const rows = (i: number, row: number) => Array.from(t.data.slice(i * 24 + row * 8, i * 24 + row * 8 + 8));
      // [CLS] the movie was good [SEP]: lower-cased, padded with 0
      expect(rows(0, 0)).toEqual([2, 8, 7, 9, 5, 3, 0, 0]);
      expect(rows(0, 1)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
      expect(rows(0, 2)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      // bad film ##s
      expect(rows(1, 0)).toEqual([2, 6, 11, 10, 3, 0, 0, 0]);
      expect(Array.from(data.test.features['text']!.data.slice(0, 8))).toEqual([2, 1, 6, 3, 0, 0, 0, 0]);
    }
  });
});
