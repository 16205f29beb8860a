// WordPiece tokenizer against hand-computed ids on a small vocab: English, accents, CJK, unknown words, control
// characters, long words, truncation and padding to text_bert rows; vocab.txt vs tokenizer.json; cased config.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { tokenize } from '../../../src/runtime/bert/load-bert.js';
import { loadTokenizer, toTextBert } from '../../../src/runtime/tokenizer/index.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'movie', 'was', 'un', '##happy', '##believ', '##able', 'naive', 'cafe',
  '!', ',', '.', '我', '很', '好', 'happy', "'", 's', 'great', '##s', 'it', 'The',
];

let tmp: string;
const dir = (n: string) => path.join(tmp, n);

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mmsa-tok-'));
  mkdirSync(dir('txt'));
  writeFileSync(path.join(dir('txt'), 'vocab.txt'), VOCAB.join('\n') + '\n');
  mkdirSync(dir('json'));
  writeFileSync(
    path.join(dir('json'), 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
    }),
  );
  mkdirSync(dir('cased'));
  writeFileSync(path.join(dir('cased'), 'vocab.txt'), VOCAB.join('\r\n'));
  writeFileSync(path.join(dir('cased'), 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
  mkdirSync(dir('empty'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pad = (ids: number[], L: number) => [...ids, ...new Array<number>(L - ids.length).fill(0)];

const CASES: [string, number[]][] = [
  ['The movie was unbelievable!', [2, 5, 6, 7, 8, 10, 11, 14, 3]],
  ['Naïve CAFÉ, unhappy.', [2, 12, 13, 15, 8, 9, 16, 3]],
  ['我很好!', [2, 17, 18, 19, 14, 3]],
  ['xyzzy\tmovie\u00a0great\n', [2, 1, 6, 23, 3]],
  ["it's happyx", [2, 25, 21, 22, 1, 3]],
  ['mo\u0000vie mo\u200bvie', [2, 6, 6, 3]],
  ['happy HAPPY unhappy', [2, 20, 20, 8, 9, 3]],
  ['', [2, 3]],
];

describe('WordPiece (uncased)', () => {
  for (const d of ['txt', 'json']) {
    it(`gives the hand-computed text_bert rows from ${d === 'txt' ? 'vocab.txt' : 'tokenizer.json'}`, async () => {
      const L = 12;
      const rows = await tokenize(dir(d), CASES.map((c) => c[0]), L);
      CASES.forEach(([text, ids], i) => {
        expect(rows.inputIds[i], text).toEqual(pad(ids, L));
        expect(rows.attentionMask[i]).toEqual(pad(ids.map(() => 1), L));
        expect(rows.tokenTypeIds[i]).toEqual(new Array(L).fill(0));
      });
      expect(rows.tokens[1]).toEqual(['[CLS]', 'naive', 'cafe', ',', 'un', '##happy', '.', '[SEP]']);
    });
  }

  it('truncates to maxLength keeping [SEP], and turns words over 100 chars into [UNK]', () => {
    const t = loadTokenizer(dir('txt'));
    expect(t.encode('the movie was great great great', 5).ids).toEqual([2, 5, 6, 7, 3]);
    expect(t.encode('the movie', 2).ids).toEqual([2, 3]);
    expect(t.tokenize('s'.repeat(100))).toEqual(['s', ...new Array(99).fill('##s')]);
    expect(t.tokenize('s'.repeat(101))).toEqual(['[UNK]']);
    expect(() => t.encode('x', 1)).toThrow(MmsaError);
  });

  it('lays the rows out as the feature files do (N x 3 x L)', () => {
    const t = loadTokenizer(dir('txt'));
    const tb = toTextBert(t.encodeBatch(['the movie', 'great'], 4));
    expect(tb.shape).toEqual([2, 3, 4]);
    expect(Array.from(tb.data)).toEqual([2, 5, 6, 3, 1, 1, 1, 1, 0, 0, 0, 0, 2, 23, 3, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  });
});

describe('configuration', () => {
  it('do_lower_case false (tokenizer_config.json) keeps case and accents; CRLF vocab lines work', () => {
    const t = loadTokenizer(dir('cased'));
    expect(t.encode('The the Naïve', 8).ids).toEqual([2, 26, 5, 1, 3, 0, 0, 0]);
  });

  it('a directory without vocab names the fix', async () => {
    await expect(tokenize(dir('empty'), ['x'], 8)).rejects.toThrow(/lacks tokenizer\.json or vocab\.txt/);
    await expect(tokenize(path.join(tmp, 'nope'), ['x'], 8)).rejects.toMatchObject({ code: 'MSA6801' });
  });
});
