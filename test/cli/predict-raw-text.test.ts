// `mmsa predict` on new, unlabelled data that has raw text but no text_bert rows: the run's BERT tokenizer makes the
// rows, only the predicted split has to exist.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand, predictCommand } from '../../src/cli/run-commands.js';
import { hasPythonNumpy } from '../runtime/data/pickle/helpers.js';
import { randomWeights, tinyBertSpec, TINY_RUN_CONFIG, writeSafetensorsDir } from '../runtime/bert/helpers.js';
import { captureIo } from './io.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad', 'movie', 'the', 'was'];
const CONFIG = TINY_RUN_CONFIG;

describe('mmsa predict with raw text', () => {
  it('tokenises the text column with the run\'s BERT and predicts every sample', async (ctx) => {
    if (!hasPythonNumpy()) {
      ctx.skip('needs python3 with numpy to write the pickle');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-predict-text-'));
    const bert = join(dir, 'bert');
    writeSafetensorsDir(bert, randomWeights(3, CONFIG), CONFIG);
    writeFileSync(join(bert, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    writeFileSync(join(dir, 'spec.yaml'), tinyBertSpec('pretrained: ./bert, '));
    const out = join(dir, 'runs');
    expect(await runCommand(join(dir, 'spec.yaml'), { out, backend: 'wasm', reporter: 'ndjson' }, captureIo(dir))).toBe(0);
    const runDir = join(out, 'spec', readdirSync(join(out, 'spec')).find((d) => d.endsWith('-7'))!);
    // New data: only a test split, raw text instead of text_bert, no labels.
    execFileSync('python3', ['-c', `
import pickle, numpy as np, sys
n = 3
d = {'test': {'raw_text': ['the movie was good', 'bad', 'unknown words here'], 'id': ['a', 'b', 'c'],
              'audio': np.ones((n, 6, 5), 'f4'), 'audio_lengths': np.array([6, 3, 1]),
              'vision': np.zeros((n, 6, 7), 'f4'), 'vision_lengths': np.array([6, 6, 2])}}
pickle.dump(d, open(sys.argv[1], 'wb'), protocol=4)
`, join(dir, 'new.pkl')]);
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
