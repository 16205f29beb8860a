// Tokens of the .mmsa pipeline language and the chevrotain lexer over them.
// Phase 1 (parse), DSL front end: text -> tokens (comments kept in their own group for the formatter).

import { createToken, Lexer, type ILexingResult, type TokenType } from 'chevrotain';

// Bare words: identifiers, optionally continued by `.x` / `-x` segments, so `encoders.text`, `heads.*` and
// `bert-base-chinese` need no quotes. A `:` is never part of a word: it belongs to the `name: type` sugar. A `[x]`
// written right after a segment (no space) selects a list element in a spec path (`groups[subnets].lr`, tune spaces).
export const WORD_PATTERN = /[A-Za-z_][A-Za-z0-9_]*(?:\[[A-Za-z0-9_]+\])*(?:[.-][A-Za-z0-9_*]+(?:\[[A-Za-z0-9_]+\])*)*/;
/** A string the printer may write without quotes (before keyword checks). */
export const BARE_WORD_RE = new RegExp(`^(?:${WORD_PATTERN.source})$`);
/** Number literals; the text is read with Number(), which agrees with YAML 1.2 core for these forms. */
export const NUMBER_PATTERN = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
export const NUMBER_RE = new RegExp(`^(?:${NUMBER_PATTERN.source})$`);

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\uFEFF]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\n\r]*/, group: 'comments' });

export const Word = createToken({ name: 'Word', pattern: WORD_PATTERN, label: 'a name' });

function keyword(name: string, text: string): TokenType {
  return createToken({ name, pattern: new RegExp(text), longer_alt: Word, label: `'${text}'` });
}

// Keywords that are also usable as plain words (keys and values) are matched by the parser's `word` rule.
export const Pipeline = keyword('Pipeline', 'pipeline');
export const Modality = keyword('Modality', 'modality');
export const Encoder = keyword('Encoder', 'encoder');
export const Fusion = keyword('Fusion', 'fusion');
export const Head = keyword('Head', 'head');
export const Task = keyword('Task', 'task');
export const On = keyword('On', 'on');
export const True = keyword('True', 'true');
export const False = keyword('False', 'false');
export const Null = keyword('Null', 'null');

// YAML's spellings of the special floats (JSON has none, but YAML specs can hold them).
export const SpecialFloat = createToken({ name: 'SpecialFloat', pattern: /[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)/, label: 'a number' });
// Anything that starts like a number but is not one (`1.2.3`, `12abc`): one token, so one diagnostic.
export const BadNumber = createToken({ name: 'BadNumber', pattern: /-?[0-9][0-9A-Za-z_.]*/, label: 'a number' });
export const NumberLit = createToken({ name: 'NumberLit', pattern: NUMBER_PATTERN, longer_alt: BadNumber, label: 'a number' });

// Written as runs of plain characters between escapes, so a long string costs the regex engine no backtracking state.
export const StringLit = createToken({ name: 'StringLit', pattern: /"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"/, label: 'a string' });
// An opening quote without its closing one on the same line: kept as a token so the parse goes on.
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*\\?/, label: 'a string' });

// YAML habit 'text': read as a string (so the parse goes on) and reported once by the tree builder.
export const SingleQuotedString = createToken({ name: 'SingleQuotedString', pattern: /'[^'\n\r]*'?/, label: 'a string' });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });

export const KEYWORDS: ReadonlySet<string> = new Set(['pipeline', 'modality', 'encoder', 'fusion', 'head', 'task', 'on']);
/** Words that read as other values when bare, so strings spelled like them are quoted. */
export const LITERAL_WORDS: ReadonlySet<string> = new Set(['true', 'false', 'null']);

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  SpecialFloat,
  NumberLit,
  BadNumber,
  StringLit,
  UnterminatedString,
  SingleQuotedString,
  Pipeline,
  Modality,
  Encoder,
  Fusion,
  Head,
  Task,
  On,
  True,
  False,
  Null,
  Word,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Comma,
  Colon,
];

export const dslLexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });

export function lexDsl(text: string): ILexingResult {
  return dslLexer.tokenize(text);
}
