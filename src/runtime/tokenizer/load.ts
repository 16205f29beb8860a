// Builds a WordPieceTokenizer from a model directory: tokenizer.json (vocab + BertNormalizer settings) or vocab.txt
// with tokenizer_config.json. Phases 7-8 (predict on raw text).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MmsaError } from '../../errors.js';
import { WordPieceTokenizer, type WordPieceOptions } from './wordpiece.js';

function readJson(file: string): Record<string, unknown> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MmsaError('MSA6810', `cannot read ${file}: ${(e as Error).message}`, { details: { file } });
  }
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new MmsaError('MSA6810', `${file}: invalid JSON: ${(e as Error).message}`, { hint: 're-download the tokenizer files', details: { file } });
  }
}

/** vocab.txt: one token per line, id = line number (0-based). */
export function parseVocabTxt(text: string): Map<string, number> {
  const vocab = new Map<string, number>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const tok = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!vocab.has(tok)) vocab.set(tok, i);
  });
  return vocab;
}

function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** BertNormalizer settings of tokenizer.json (possibly inside a Sequence). */
function normalizerOptions(n: unknown): Partial<WordPieceOptions> {
  if (typeof n !== 'object' || n === null) return {};
  const o = n as Record<string, unknown>;
  if (o.type === 'Sequence' && Array.isArray(o.normalizers)) {
    return Object.assign({}, ...o.normalizers.map(normalizerOptions)) as Partial<WordPieceOptions>;
  }
  if (o.type === 'BertNormalizer') {
    const r: Partial<WordPieceOptions> = {};
    if (typeof o.lowercase === 'boolean') r.doLowerCase = o.lowercase;
    if (typeof o.strip_accents === 'boolean') r.stripAccents = o.strip_accents;
    if (typeof o.handle_chinese_chars === 'boolean') r.tokenizeChineseChars = o.handle_chinese_chars;
    return r;
  }
  if (o.type === 'Lowercase') return { doLowerCase: true };
  return {};
}

/** Loads the tokenizer of a model directory (tokenizer.json preferred; vocab.txt + tokenizer_config.json otherwise). */
export function loadTokenizer(dir: string): WordPieceTokenizer {
  const tj = path.join(dir, 'tokenizer.json');
  const vt = path.join(dir, 'vocab.txt');
  const tc = path.join(dir, 'tokenizer_config.json');
  const cfg = existsSync(tc) ? readJson(tc) : {};
  const opts: WordPieceOptions = {};
  if (typeof cfg.do_lower_case === 'boolean') opts.doLowerCase = cfg.do_lower_case;
  if (typeof cfg.strip_accents === 'boolean') opts.stripAccents = cfg.strip_accents;
  if (typeof cfg.tokenize_chinese_chars === 'boolean') opts.tokenizeChineseChars = cfg.tokenize_chinese_chars;
  for (const [key, field] of [['unk_token', 'unkToken'], ['cls_token', 'clsToken'], ['sep_token', 'sepToken'], ['pad_token', 'padToken']] as const) {
    const s = tokenString(cfg[key]);
    if (s !== undefined) opts[field] = s;
  }
  if (existsSync(tj)) {
    const j = readJson(tj);
    const model = j.model as Record<string, unknown> | undefined;
    if (!model || model.type !== 'WordPiece' || typeof model.vocab !== 'object' || model.vocab === null) {
      throw new MmsaError('MSA6810', `${tj}: model is not a WordPiece model with a vocab (type ${JSON.stringify(model?.type)})`, {
        hint: 'only BERT WordPiece tokenizers are supported',
        details: { file: tj },
      });
    }
    const vocab = new Map<string, number>();
    for (const [tok, id] of Object.entries(model.vocab as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new MmsaError('MSA6810', `${tj}: vocab id of '${tok}' is not a non-negative integer`, { details: { file: tj } });
      vocab.set(tok, id);
    }
    Object.assign(opts, normalizerOptions(j.normalizer));
    if (typeof model.unk_token === 'string') opts.unkToken = model.unk_token;
    if (typeof model.continuing_subword_prefix === 'string') opts.continuingSubwordPrefix = model.continuing_subword_prefix;
    if (typeof model.max_input_chars_per_word === 'number') opts.maxInputCharsPerWord = model.max_input_chars_per_word;
    return new WordPieceTokenizer(vocab, opts, tj);
  }
  if (existsSync(vt)) return new WordPieceTokenizer(parseVocabTxt(readFileSync(vt, 'utf8')), opts, vt);
  throw new MmsaError('MSA6810', `${dir}: no vocab.txt or tokenizer.json`, {
    hint: 'the model directory needs the tokenizer files of the checkpoint (vocab.txt or tokenizer.json)',
    details: { dir },
  });
}
