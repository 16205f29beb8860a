// Parses .mmsa text into the spanned SpecTree (same result shape as parseYaml), with syntax errors as diagnostics.
// Phase 1 (parse), DSL front end: lexer -> CstParser (recovering) -> tree builder; also collects comments.

import type { IRecognitionException, IToken } from 'chevrotain';
import { capDiagnostics, DiagnosticBag, sortDiagnostics, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { reportSourceProblem, type SourceFile, type Span } from '../../source/source-file.js';
import { MAX_NESTING } from '../limits.js';
import type { SpecNode } from '../../spec/spec-tree.js';
import { buildDslTree, FILE_ANCHOR, type LayoutContainer } from './build-tree.js';
import { lexDsl } from './lexer.js';
import { dslParser, TooManySyntaxErrors, type SyntaxErrorData } from './parser.js';

export interface ParseResult {
  tree: SpecNode | undefined;
  diagnostics: Diagnostic[];
}

export interface DslComment {
  text: string;
  span: Span;
}

/** Where the comments and blank lines of a parsed file belong, keyed by the tree's own objects. */
export interface DslTrivia {
  /** Comments on their own lines before an entry (SpecEntry) or list item / root (SpecNode). */
  leading: Map<object, string[]>;
  /** A comment after an entry or item on the same line. */
  trailing: Map<object, string>;
  /** Comments after the last child of a block or list (keyed by the map/seq node), or of the file (FILE_ANCHOR). */
  dangling: Map<object, string[]>;
  /** Entries/items the author separated from the previous one by a blank line. */
  blankBefore: Set<object>;
  /** The parsed file, so number literals keep their spelling (`5e-5`, `0.0`). */
  source?: SourceFile;
}

export interface DslParseDetail extends ParseResult {
  /** The tree built despite syntax errors (error recovery); `tree` is undefined when there are any. */
  recoveredTree: SpecNode | undefined;
  comments: DslComment[];
  trivia: DslTrivia;
}

export function parseDsl(file: SourceFile): ParseResult {
  const { tree, diagnostics } = parseDslDetailed(file);
  return { tree, diagnostics };
}

function joinExpected(xs: string[]): string {
  if (xs.length === 0) return 'something else';
  if (xs.length === 1) return xs[0]!;
  if (xs.length === 2) return `${xs[0]} or ${xs[1]}`;
  return `one of ${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

function decode(e: IRecognitionException): SyntaxErrorData {
  try {
    return JSON.parse(e.message) as SyntaxErrorData;
  } catch {
    return { expected: [], found: e.token?.image ?? '?', rule: '' };
  }
}

const VALUE_RULES = new Set(['value', 'scalar']);

/** The first opening bracket that nests deeper than MAX_NESTING, if any (checked before parsing: the parser recurses). */
function tooDeep(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    const n = t.tokenType.name;
    if (n === 'LBrace' || n === 'LBracket' || n === 'LParen') {
      depth++;
      if (depth > MAX_NESTING) return t;
    } else if ((n === 'RBrace' || n === 'RBracket' || n === 'RParen') && depth > 0) depth--;
  }
  return undefined;
}

export function parseDslDetailed(file: SourceFile): DslParseDetail {
  const bag = new DiagnosticBag();
  const text = file.text;
  const emptyTrivia: DslTrivia = { leading: new Map(), trailing: new Map(), dangling: new Map(), blankBefore: new Set(), source: file };
  if (!reportSourceProblem(file, (code, span, args) => bag.add(code, span, args))) {
    return { tree: undefined, recoveredTree: undefined, diagnostics: bag.items, comments: [], trivia: emptyTrivia };
  }
  const lexed = lexDsl(text);
  const syntax: Diagnostic[] = [];
  for (const err of lexed.errors) {
    const run = text.slice(err.offset, err.offset + err.length);
    const span = file.span(err.offset, err.offset + Math.max(1, err.length));
    const ch = run.length > 12 ? `${run.slice(0, 12)}...` : run;
    const hint = run.startsWith("'") ? 'strings are written in double quotes: "..."' : 'remove it, or put the text in double quotes';
    syntax.push(diag(bag, 'MSA1012', span, { char: ch }, hint));
  }
  const comments: DslComment[] = (lexed.groups['comments'] ?? []).map((t) => ({ text: t.image.replace(/\s+$/, ''), span: file.span(t.startOffset, t.endOffset! + 1) }));
  if (lexed.tokens.length === 0) {
    if (syntax.length === 0) syntax.push(diag(bag, 'MSA1005', file.span(0, 0), {}));
    return { tree: undefined, recoveredTree: undefined, diagnostics: bag.items, comments, trivia: emptyTrivia };
  }

  const deep = tooDeep(lexed.tokens);
  if (deep !== undefined) {
    syntax.push(diag(bag, 'MSA1008', file.span(deep.startOffset, deep.endOffset! + 1), { max: MAX_NESTING }));
    return { tree: undefined, recoveredTree: undefined, diagnostics: capDiagnostics(sortDiagnostics(bag.items)), comments, trivia: emptyTrivia };
  }
  dslParser.input = lexed.tokens;
  let cst: ReturnType<typeof dslParser.file> | undefined;
  try {
    cst = dslParser.file();
  } catch (e) {
    // Too many errors to go on: report those found (the tree is no use after that many).
    if (!(e instanceof TooManySyntaxErrors)) throw e;
  }
  const lexSpans = lexed.errors.map((e) => e.offset);
  let lastEnd = -1;
  const regionOf = topLevelRegions(file, lexed.tokens);
  const parseErrorRegions: number[] = [];
  for (const e of dslParser.errors) {
    const t = e.token;
    const atEof = t.tokenType.name === 'EOF' || Number.isNaN(t.startOffset);
    const start = atEof ? text.length : t.startOffset;
    // One mistake, one diagnostic: errors inside the stretch the parser skipped to recover from an earlier error,
    // and errors right after a bad character the lexer already reported, are consequences, not new mistakes.
    if (start <= lastEnd) continue;
    // A character the lexer dropped stood where the parser wanted something: that is the same mistake.
    const prevEnd = (previousToken(lexed.tokens, start)?.endOffset ?? -1) + 1;
    if (lexSpans.some((o) => o >= prevEnd - 1 && o < start)) {
      lastEnd = recoveryEnd(e, start);
      continue;
    }
    if (atEof && syntax.some((d) => d.span.start === text.length)) continue;
    // Recovery can leave the parser at the wrong nesting level; what follows from that (the file "ends" early, a
    // block is "unclosed", more errors in the same top-level entry) repeats the first mistake.
    const region = regionOf(start);
    if (parseErrorRegions.length > 0) {
      if (e.name === 'NotAllInputParsedException' || atEof || parseErrorRegions.includes(region)) {
        lastEnd = recoveryEnd(e, start);
        continue;
      }
    }
    parseErrorRegions.push(region);
    const data = decode(e);
    const span = atEof ? file.span(text.length, text.length) : file.span(t.startOffset, t.endOffset! + 1);
    const prev = previousToken(lexed.tokens, start);
    const expected = VALUE_RULES.has(data.rule) || (data.expected.includes("'{'") && data.expected.includes("'['")) ? ['a value'] : data.expected;
    if (t.tokenType.name === 'Colon') {
      syntax.push(diag(bag, 'MSA1020', span, { key: prev?.image ?? '' }));
    } else if (atEof) {
      syntax.push(diag(bag, 'MSA1013', span, { expected: joinExpected(expected) }, closingHint(expected)));
    } else if ((e.context?.ruleStack ?? [data.rule]).some((r) => DECL_RULES.has(r)) && prev && DECL_KEYWORDS.has(prev.tokenType.name)) {
      // `head { ... }` at the top level: the word was meant as a plain key.
      syntax.push(diag(bag, 'MSA1022', file.span(prev.startOffset, prev.endOffset! + 1), { word: prev.image }));
    } else {
      syntax.push(diag(bag, 'MSA1010', span, { expected: joinExpected(expected), found: data.found }, keyHint(expected, t, prev, previousToken(lexed.tokens, prev?.startOffset ?? 0))));
    }
    lastEnd = recoveryEnd(e, start);
  }

  if (cst === undefined) return { tree: undefined, recoveredTree: undefined, diagnostics: capDiagnostics(sortDiagnostics(bag.items)), comments, trivia: emptyTrivia };
  const treeBag = new DiagnosticBag();
  const built = buildDslTree(cst, file, treeBag);
  const trivia = attachTrivia(file, comments, built.layout);
  const hasSyntaxErrors = syntax.length > 0;
  // After a syntax error the recovered tree can hold entries in the wrong block (a missing '}' puts the next
  // declaration inside the open one), so duplicate keys found after that point are consequences, not mistakes.
  const firstError = syntax.reduce((m, d) => Math.min(m, d.span.start), Infinity);
  for (const d of treeBag.items) {
    if (d.code === 'MSA1002' && d.span.start >= firstError) continue;
    bag.push(d);
  }
  return {
    // Like parseYaml: duplicate keys are reported but keep the tree; any syntax error drops it.
    tree: hasSyntaxErrors || treeBag.items.some((d) => d.code !== 'MSA1002') ? undefined : built.tree,
    recoveredTree: built.tree,
    diagnostics: capDiagnostics(sortDiagnostics(bag.items)),
    comments,
    trivia,
  };
}

function diag(bag: DiagnosticBag, code: Parameters<DiagnosticBag['add']>[0], span: Span, args: Record<string, unknown>, hint?: string): Diagnostic {
  return bag.add(code, span, args, hint ? { hint } : {});
}

const CLOSERS = new Set(['RBrace', 'RBracket', 'RParen']);

/**
 * Splits the file into top-level entries by layout: a line whose first token is at the indentation of the pipeline
 * body (the smallest indentation deeper than the outermost one) starts a new region. Returns offset -> region index.
 */
function topLevelRegions(file: SourceFile, tokens: IToken[]): (offset: number) => number {
  const firstOfLine: IToken[] = [];
  let line = -1;
  for (const t of tokens) {
    if (t.startLine !== line) {
      line = t.startLine ?? line;
      if (!CLOSERS.has(t.tokenType.name)) firstOfLine.push(t);
    }
  }
  const cols = firstOfLine.map((t) => t.startColumn ?? 1);
  const outer = cols.reduce((m, c) => Math.min(m, c), Infinity);
  const deeper = cols.filter((c) => c > outer);
  const body = deeper.length > 0 ? deeper.reduce((m, c) => Math.min(m, c), Infinity) : outer;
  const starts = firstOfLine.filter((t) => (t.startColumn ?? 1) <= body).map((t) => t.startOffset);
  return (offset: number) => {
    let r = 0;
    for (let i = 0; i < starts.length; i++) if (starts[i]! <= offset) r = i;
    return r;
  };
}

function previousToken(tokens: IToken[], offset: number): IToken | undefined {
  let prev: IToken | undefined;
  for (const t of tokens) {
    if (t.startOffset >= offset) break;
    prev = t;
  }
  return prev;
}

function recoveryEnd(e: IRecognitionException, start: number): number {
  let end = start;
  for (const r of e.resyncedTokens ?? []) if (!Number.isNaN(r.endOffset)) end = Math.max(end, r.endOffset ?? end);
  return end;
}

function closingHint(expected: string[]): string | undefined {
  if (expected.includes("'}'")) return "a block is not closed: add the missing '}'";
  if (expected.includes("']'")) return "a list is not closed: add the missing ']'";
  return undefined;
}

const DECL_RULES = new Set(['modalityDecl', 'encoderDecl', 'headDecl', 'taskDecl']);
const DECL_KEYWORDS = new Set(['Modality', 'Encoder', 'Head', 'Task', 'Fusion']);

function keyHint(expected: string[], t: IToken, prev: IToken | undefined, prev2: IToken | undefined): string | undefined {
  const found = t.tokenType.name;
  if (DECL_KEYWORDS.has(found)) {
    if (expected.includes("'}'")) return `'${t.image}' declarations belong at the top level of the pipeline: is a '}' missing above this line?`;
    if (expected.includes('a value') && prev) return `'${prev.image}' has no value: write \`${prev.image} VALUE\``;
  }
  if (expected.includes('a key') && /^(?:NumberLit|True|False|Null|BadNumber)$/.test(found)) {
    return 'keys are names or quoted strings; if this is a value, the key before it may be missing one';
  }
  if (expected.includes('a key') && (found === 'LBrace' || found === 'LBracket')) {
    if (prev2 && DECL_KEYWORDS.has(prev2.tokenType.name)) return `'${prev2.image}' declarations belong at the top level of the pipeline: is a '}' missing above this line?`;
    return "a value needs a key before it (`key { ... }`), or a '}' is missing above";
  }
  return undefined;
}

/** Assigns each comment to the entry it precedes (or trails on the same line), or to the end of its block. */
function attachTrivia(file: SourceFile, comments: DslComment[], layout: LayoutContainer[]): DslTrivia {
  const trivia: DslTrivia = { leading: new Map(), trailing: new Map(), dangling: new Map(), blankBefore: new Set(), source: file };
  const text = file.text;
  const sorted = layout.map((c) => ({ ...c, children: [...c.children].sort((a, b) => a.start - b.start) }));
  const push = (m: Map<object, string[]>, k: object, v: string) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const c of comments) {
    let best: (typeof sorted)[number] | undefined;
    for (const cont of sorted) {
      if (cont.start <= c.span.start && c.span.end <= cont.end && (!best || cont.end - cont.start < best.end - best.start)) best = cont;
    }
    if (!best) {
      push(trivia.dangling, FILE_ANCHOR, c.text);
      continue;
    }
    const before = [...best.children].reverse().find((ch) => ch.end <= c.span.start);
    if (before && !/[\n\r]/.test(text.slice(before.end, c.span.start)) && !trivia.trailing.has(before.target)) {
      trivia.trailing.set(before.target, c.text);
      continue;
    }
    const after = best.children.find((ch) => ch.start >= c.span.end);
    if (after) push(trivia.leading, after.target, c.text);
    else push(trivia.dangling, best.target === FILE_ANCHOR ? FILE_ANCHOR : best.target, c.text);
  }
  // Blank lines: between the previous child (or its trailing comment) and this child's first leading comment.
  const commentStarts = comments.map((c) => c.span);
  for (const cont of sorted) {
    for (let i = 1; i < cont.children.length; i++) {
      const prev = cont.children[i - 1]!;
      const cur = cont.children[i]!;
      let from = prev.end;
      let to = cur.start;
      for (const s of commentStarts) {
        if (s.start >= prev.end && s.end <= cur.start) {
          if (!/[\n\r]/.test(text.slice(prev.end, s.start))) from = Math.max(from, s.end);
          else to = Math.min(to, s.start);
        }
      }
      if (from < to && /\n[ \t\r]*\n/.test(text.slice(from, to))) trivia.blankBefore.add(cur.target);
    }
  }
  return trivia;
}
