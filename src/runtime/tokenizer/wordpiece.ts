// BERT tokenizer: BasicTokenizer (clean text, CJK split, lowercase + accent stripping, punctuation split) and
// WordPiece (greedy longest match, "##" continuations), and the reference's text_bert rows. Phases 7-8 (predict on raw text).
import { MmsaError } from '../../errors.js';

export interface WordPieceOptions {
  doLowerCase?: boolean;
  /** undefined: follow doLowerCase (BERT's rule). */
  stripAccents?: boolean;
  tokenizeChineseChars?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

/** The three text_bert rows for a batch (token ids, attention mask, segment ids, as MMSA's `text_bert`), each N x L, plus the tokens for inspection. */
export interface TextBertRows {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  tokens: string[][];
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /^\p{Zs}$/u.test(ch);
}

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /^[\p{Cc}\p{Cf}]$/u.test(ch);
}

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  // All non-letter/number ASCII is punctuation for BERT ("$", "^", "`" included), plus Unicode P*.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /^\p{P}$/u.test(ch);
}

/** CJK Unified Ideographs blocks, as BERT's _is_chinese_char (not Hangul / kana). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class WordPieceTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  private readonly neverSplit: Set<string>;

  constructor(vocab: ReadonlyMap<string, number>, opts: WordPieceOptions = {}, source = 'vocab') {
    this.vocab = vocab;
    this.doLowerCase = opts.doLowerCase ?? true;
    this.stripAccents = opts.stripAccents ?? this.doLowerCase;
    this.tokenizeChineseChars = opts.tokenizeChineseChars ?? true;
    this.unkToken = opts.unkToken ?? '[UNK]';
    this.clsToken = opts.clsToken ?? '[CLS]';
    this.sepToken = opts.sepToken ?? '[SEP]';
    this.padToken = opts.padToken ?? '[PAD]';
    this.prefix = opts.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = opts.maxInputCharsPerWord ?? 100;
    for (const t of [this.unkToken, this.clsToken, this.sepToken]) {
      if (!vocab.has(t)) {
        throw new MmsaError('MSA6810', `${source}: the vocabulary has no '${t}' token`, {
          hint: 'use the vocab.txt / tokenizer.json that belongs to the BERT checkpoint',
          details: { file: source, token: t },
        });
      }
    }
    this.neverSplit = new Set([this.unkToken, this.clsToken, this.sepToken, this.padToken, '[MASK]']);
  }

  /** BasicTokenizer: text -> words and punctuation marks. */
  basicTokenize(text: string): string[] {
    let clean = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      if (isWhitespace(ch)) clean += ' ';
      else if (this.tokenizeChineseChars && isChineseChar(cp)) clean += ` ${ch} `;
      else clean += ch;
    }
    clean = clean.normalize('NFC');
    const out: string[] = [];
    for (let tok of clean.split(' ')) {
      if (tok === '') continue;
      if (this.neverSplit.has(tok)) {
        out.push(tok);
        continue;
      }
      if (this.doLowerCase) tok = tok.toLowerCase();
      if (this.stripAccents) tok = tok.normalize('NFD').replace(/\p{Mn}/gu, '');
      let cur = '';
      for (const ch of tok) {
        if (isPunctuation(ch)) {
          if (cur !== '') out.push(cur);
          out.push(ch);
          cur = '';
        } else cur += ch;
      }
      if (cur !== '') out.push(cur);
    }
    return out;
  }

  /** WordPiece on one word: greedy longest match first; a word with an unmatchable rest is [UNK] as a whole. */
  wordPiece(word: string): string[] {
    const chars = [...word];
    if (chars.length > this.maxInputCharsPerWord) return [this.unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = this.prefix + sub;
        if (this.vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return [this.unkToken];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const w of this.basicTokenize(text)) {
      if (this.neverSplit.has(w) && this.vocab.has(w)) out.push(w);
      else out.push(...this.wordPiece(w));
    }
    return out;
  }

  idOf(token: string): number {
    return this.vocab.get(token) ?? this.vocab.get(this.unkToken)!;
  }

  /**
   * The reference's text_bert rows for one text: [CLS] + pieces + [SEP], pieces truncated to maxLength - 2, mask 1
   * on every real token, segment ids 0, then right zero-padding of all three rows to maxLength.
   */
  encode(text: string, maxLength: number): { ids: number[]; mask: number[]; types: number[]; tokens: string[] } {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new MmsaError('MSA6811', `tokenize: maxLength must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLength}`);
    }
    const pieces = this.tokenize(text).slice(0, maxLength - 2);
    const tokens = [this.clsToken, ...pieces, this.sepToken];
    const ids = tokens.map((t) => this.idOf(t));
    const mask = ids.map(() => 1);
    while (ids.length < maxLength) {
      ids.push(0);
      mask.push(0);
    }
    return { ids, mask, types: new Array<number>(maxLength).fill(0), tokens };
  }

  encodeBatch(texts: readonly string[], maxLength: number): TextBertRows {
    const r: TextBertRows = { inputIds: [], attentionMask: [], tokenTypeIds: [], tokens: [] };
    for (const t of texts) {
      const e = this.encode(t, maxLength);
      r.inputIds.push(e.ids);
      r.attentionMask.push(e.mask);
      r.tokenTypeIds.push(e.types);
      r.tokens.push(e.tokens);
    }
    return r;
  }
}

/** text_bert as the feature files store it: N x 3 x L float32 (rows ids, mask, segments). */
export function toTextBert(rows: TextBertRows): { data: Float32Array; shape: [number, number, number] } {
  const n = rows.inputIds.length;
  const L = n > 0 ? rows.inputIds[0]!.length : 0;
  const data = new Float32Array(n * 3 * L);
  for (let i = 0; i < n; i++) {
    data.set(rows.inputIds[i]!, i * 3 * L);
    data.set(rows.attentionMask[i]!, i * 3 * L + L);
    data.set(rows.tokenTypeIds[i]!, i * 3 * L + 2 * L);
  }
  return { data, shape: [n, 3, L] };
}
