// `mmsa predict` on new, unlabelled data that has raw text but no text_bert rows: the run's BERT tokenizer makes the
// rows, only the predicted split has to exist.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand, predictCommand } from '../../src/cli/run-commands.js';
import { int64Array, ndarray, writePickleFile } from '../../src/runtime/data/pickle/write-pickle.js';
import { randomWeights, tinyBertSpec, TINY_RUN_CONFIG, writeSafetensorsDir } from '../runtime/bert/helpers.js';
import { captureIo } from './io.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad', 'movie', 'the', 'was'];
const CONFIG = TINY_RUN_CONFIG;

describe('mmsa predict with raw text', () => {
  it('tokenises the text column with the run\'s BERT and predicts every sample', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-predict-text-'));
    const bert = join(dir, 'bert');
    writeSafetensorsDir(bert, randomWeights(3, CONFIG), CONFIG);
    writeFileSync(join(bert, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    writeFileSync(join(dir, 'spec.yaml'), tinyBertSpec('pretrained: ./bert, '));
    const out = join(dir, 'runs');
    expect(await runCommand(join(dir, 'spec.yaml'), { out, backend: 'wasm', reporter: 'ndjson' }, captureIo(dir))).toBe(0);
    const runDir = join(out, 'spec', readdirSync(join(out, 'spec')).find((d) => d.endsWith('-7'))!);
    // New data: only a test split, raw text instead of text_bert, no labels.
    const n = 3;
    writePickleFile(join(dir, 'new.pkl'), {
      test: {
        raw_text: ['the movie was good', 'bad', 'unknown words here'],
        id: ['a', 'b', 'c'],
        audio: ndarray(new Float32Array(n * 6 * 5).fill(1), [n, 6, 5]),
        audio_lengths: int64Array([6, 3, 1]),
        vision: ndarray(new Float32Array(n * 6 * 7), [n, 6, 7]),
        vision_lengths: int64Array([6, 6, 2]),
      },
    });
    const io = captureIo(dir);
    const rc = await predictCommand(runDir, { data: join(dir, 'new.pkl'), backend: 'wasm' }, io);
    expect(io.stderr()).toBe('');
    expect(rc).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines[0]).toBe('id,prediction,label');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['a', 'b', 'c']);
    for (const l of lines.slice(1)) {
      const [, pred, label] = l.split(',');
      expect(Number.isFinite(Number(pred))).toBe(true);
      expect(label).toBe('');
    }
  });
});
