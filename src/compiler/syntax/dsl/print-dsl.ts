// Prints a SpecTree as canonical .mmsa text (sugar where it applies, generic `key value` otherwise, comments kept),
// and converts between .mmsa and YAML. Phase 1 (parse) tooling: `mmsa fmt` and `mmsa convert`.

import { Document, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YNode } from 'yaml';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { SourceFile } from '../../source/source-file.js';
import { fromValue, toValue, type JsonValue, type SpecEntry, type SpecNode, type SpecScalar } from '../../spec/spec-tree.js';
import { parseYaml } from '../yaml/parse-yaml.js';
import { FILE_ANCHOR } from './build-tree.js';
import { BARE_WORD_RE, LITERAL_WORDS, NUMBER_RE } from './lexer.js';
import { parseDslDetailed, type DslTrivia } from './parse-dsl.js';

const WIDTH = 100;
const INDENT = '  ';
/** Words that start a declaration in the pipeline body, so a top-level key spelled like one is quoted. */
const TOP_RESERVED: ReadonlySet<string> = new Set(['modality', 'encoder', 'head', 'task', 'on']);
const DECL_WORDS: ReadonlySet<string> = new Set(['modality', 'encoder', 'head', 'task']);
const SECTION_DECL: Record<string, 'modality' | 'encoder' | 'head' | 'task'> = {
  modalities: 'modality',
  encoders: 'encoder',
  heads: 'head',
  tasks: 'task',
};

export type PrintTrivia = Partial<DslTrivia> & {
  /** Put blank lines between top-level groups (default: only when there is no source layout to follow). */
  autoBlankLines?: boolean;
};

/** A string as the DSL writes it: bare when it reads back as the same string, else double-quoted with escapes. */
export function printString(s: string): string {
  if (BARE_WORD_RE.test(s) && !LITERAL_WORDS.has(s)) return s;
  return JSON.stringify(s);
}

function printKey(k: string, top: boolean): string {
  if (top && TOP_RESERVED.has(k)) return JSON.stringify(k);
  return printString(k);
}

export function printNumber(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

function numberFromText(text: string): number | undefined {
  if (NUMBER_RE.test(text)) return Number(text);
  return undefined;
}

class Printer {
  private readonly t: DslTrivia;
  private readonly auto: boolean;

  constructor(trivia: PrintTrivia | undefined) {
    this.t = {
      leading: trivia?.leading ?? new Map(),
      trailing: trivia?.trailing ?? new Map(),
      dangling: trivia?.dangling ?? new Map(),
      blankBefore: trivia?.blankBefore ?? new Set(),
      ...(trivia?.source ? { source: trivia.source } : {}),
    };
    // Without a source layout, blank lines between top-level groups are chosen by the printer.
    this.auto = trivia?.autoBlankLines ?? !trivia?.source;
  }

  scalar(n: SpecScalar): string {
    const v = n.value;
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      const src = this.t.source;
      if (src && n.span.file === src.path && n.span.end <= src.text.length) {
        const text = src.text.slice(n.span.start, n.span.end);
        const back = numberFromText(text);
        if (back !== undefined && Object.is(back, v)) return text;
      }
      return printNumber(v);
    }
    return printString(v);
  }

  /** Whether a node (or anything in it) carries comments or blank lines, which forces the multi-line layout. */
  private hasTrivia(n: SpecNode): boolean {
    if (this.t.dangling.has(n)) return true;
    if (n.kind === 'map') {
      return n.entries.some((e) => this.t.leading.has(e) || this.t.trailing.has(e) || this.t.blankBefore.has(e) || this.hasTrivia(e.value));
    }
    if (n.kind === 'seq') {
      return n.items.some((it) => this.t.leading.has(it) || this.t.trailing.has(it) || this.t.blankBefore.has(it) || this.hasTrivia(it));
    }
    return false;
  }

  /** One-line form, or undefined if the node has trivia inside. */
  flat(n: SpecNode): string | undefined {
    if (n.kind === 'scalar') return this.scalar(n);
    if (this.hasTrivia(n)) return undefined;
    if (n.kind === 'seq') {
      const parts: string[] = [];
      for (const it of n.items) {
        const f = this.flat(it);
        if (f === undefined) return undefined;
        parts.push(f);
      }
      return `[${parts.join(', ')}]`;
    }
    return this.flatEntries(n.entries, false);
  }

  private flatEntries(entries: SpecEntry[], top: boolean): string | undefined {
    if (entries.length === 0) return '{}';
    const parts: string[] = [];
    for (const e of entries) {
      const f = this.flat(e.value);
      if (f === undefined) return undefined;
      parts.push(`${printKey(e.key, top)} ${f}`);
    }
    return `{ ${parts.join(', ')} }`;
  }

  /** A value starting at column `col` of a line indented by `depth` levels; later lines carry their own indent. */
  value(n: SpecNode, depth: number, col: number, tail = 0): string {
    if (n.kind === 'scalar') return this.scalar(n);
    const f = this.flat(n);
    if (f !== undefined && col + f.length + tail <= WIDTH) return f;
    if (n.kind === 'map') return this.blockLines(n.entries, n, depth);
    const ind = INDENT.repeat(depth + 1);
    const lines: string[] = ['['];
    n.items.forEach((it, i) => {
      if (i > 0 && this.t.blankBefore.has(it)) lines.push('');
      for (const c of this.t.leading.get(it) ?? []) lines.push(ind + c);
      const tr = this.t.trailing.get(it);
      lines.push(`${ind}${this.value(it, depth + 1, ind.length, 1 + (tr ? tr.length + 1 : 0))},${tr ? ` ${tr}` : ''}`);
    });
    for (const c of this.t.dangling.get(n) ?? []) lines.push(ind + c);
    lines.push(`${INDENT.repeat(depth)}]`);
    return lines.join('\n');
  }

  /** `{` entries `}` over several lines; `owner` holds the dangling comments. */
  private blockLines(entries: SpecEntry[], owner: object | undefined, depth: number): string {
    const ind = INDENT.repeat(depth + 1);
    const lines: string[] = ['{'];
    entries.forEach((e, i) => {
      if (i > 0 && this.t.blankBefore.has(e)) lines.push('');
      for (const c of this.t.leading.get(e) ?? []) lines.push(ind + c);
      lines.push(this.entryLine(e, depth + 1, false));
    });
    for (const c of (owner && this.t.dangling.get(owner)) ?? []) lines.push(ind + c);
    lines.push(`${INDENT.repeat(depth)}}`);
    return lines.join('\n');
  }

  private entryLine(e: SpecEntry, depth: number, top: boolean): string {
    const ind = INDENT.repeat(depth);
    const head = `${ind}${printKey(e.key, top)} `;
    const tr = this.t.trailing.get(e);
    const v = e.value;
    // The parser reads a bare declaration keyword after a top-level key as the start of a declaration.
    const text = top && v.kind === 'scalar' && typeof v.value === 'string' && DECL_WORDS.has(v.value) ? JSON.stringify(v.value) : this.value(v, depth, head.length, tr ? tr.length + 1 : 0);
    return `${head}${text}${tr ? ` ${tr}` : ''}`;
  }

  /** A map printed as a block after a declaration head (`modality text {...}`); empty maps print nothing. */
  private declBlock(entries: SpecEntry[], owner: object | undefined, depth: number, col: number, tail: number, omitEmpty: boolean): string {
    const hasDangling = owner !== undefined && this.t.dangling.has(owner);
    if (entries.length === 0 && !hasDangling) return omitEmpty ? '' : ' {}';
    const inner = hasDangling ? undefined : this.flatEntriesIfClean(entries);
    if (inner !== undefined && col + 1 + inner.length + tail <= WIDTH) return ` ${inner}`;
    return ` ${this.blockLines(entries, owner, depth)}`;
  }

  private flatEntriesIfClean(entries: SpecEntry[]): string | undefined {
    if (entries.some((e) => this.t.leading.has(e) || this.t.trailing.has(e) || this.t.blankBefore.has(e))) return undefined;
    return this.flatEntries(entries, false);
  }

  /** Sugar for one entry of modalities/encoders/heads/tasks, or undefined when the value does not fit it. */
  private decl(kind: 'modality' | 'encoder' | 'head' | 'task', e: SpecEntry, depth: number): string | undefined {
    const v = e.value;
    if (v.kind !== 'map') return undefined;
    let rest = v.entries;
    let head = `${INDENT.repeat(depth)}${kind} ${printString(e.key)}`;
    if (kind !== 'modality') {
      const first = rest[0];
      if (first && first.key === 'type' && first.value.kind === 'scalar' && typeof first.value.value === 'string' && !this.hasOwnTrivia(first)) {
        head += `: ${printString(first.value.value)}`;
        rest = rest.slice(1);
      }
      if (kind === 'head') {
        const next = rest[0];
        if (next && next.key === 'input' && next.value.kind === 'scalar' && typeof next.value.value === 'string' && !this.hasOwnTrivia(next)) {
          head += ` on ${printString(next.value.value)}`;
          rest = rest.slice(1);
        }
      }
    }
    const tr = this.t.trailing.get(e);
    const block = this.declBlock(rest, v, depth, head.length, tr ? tr.length + 1 : 0, kind !== 'modality');
    return `${head}${block}${tr ? ` ${tr}` : ''}`;
  }

  private hasOwnTrivia(e: SpecEntry): boolean {
    return this.t.leading.has(e) || this.t.trailing.has(e) || this.t.blankBefore.has(e);
  }

  private sectionDecls(e: SpecEntry, depth: number): string[] | undefined {
    const kind = SECTION_DECL[e.key];
    const v = e.value;
    if (!kind || v.kind !== 'map' || v.entries.length === 0) return undefined;
    if (!v.entries.every((x) => x.value.kind === 'map')) return undefined;
    if (this.t.trailing.has(e)) return undefined;
    const ind = INDENT.repeat(depth);
    const lines: string[] = [];
    v.entries.forEach((x, i) => {
      if (i > 0 && this.t.blankBefore.has(x)) lines.push('');
      for (const c of this.t.leading.get(x) ?? []) lines.push(ind + c);
      lines.push(this.decl(kind, x, depth)!);
    });
    for (const c of this.t.dangling.get(v) ?? []) lines.push(ind + c);
    return lines;
  }

  private fusionDecl(e: SpecEntry, depth: number): string | undefined {
    const v = e.value;
    if (e.key !== 'fusion' || v.kind !== 'map') return undefined;
    const [t, i] = v.entries;
    if (!t || t.key !== 'type' || t.value.kind !== 'scalar' || typeof t.value.value !== 'string' || this.hasOwnTrivia(t)) return undefined;
    if (!i || i.key !== 'inputs' || i.value.kind !== 'seq' || this.hasOwnTrivia(i) || this.hasTrivia(i.value)) return undefined;
    const names: string[] = [];
    for (const it of i.value.items) {
      if (it.kind !== 'scalar' || typeof it.value !== 'string') return undefined;
      names.push(printString(it.value));
    }
    const head = `${INDENT.repeat(depth)}fusion ${printString(t.value.value)}(${names.join(', ')})`;
    const tr = this.t.trailing.get(e);
    return `${head}${this.declBlock(v.entries.slice(2), v, depth, head.length, tr ? tr.length + 1 : 0, true)}${tr ? ` ${tr}` : ''}`;
  }

  private group(e: SpecEntry): string {
    if (SECTION_DECL[e.key] && e.value.kind === 'map') return e.key;
    if (e.value.kind === 'map') return `map:${e.key}`;
    return 'simple';
  }

  file(root: SpecNode): string {
    const out: string[] = [];
    const rootLeading = this.t.leading.get(root) ?? [];
    if (root.kind !== 'map') {
      out.push(...rootLeading);
      const tr = this.t.trailing.get(root);
      const isPipelineWord = root.kind === 'scalar' && root.value === 'pipeline';
      out.push((isPipelineWord ? '"pipeline"' : this.value(root, 0, 0)) + (tr ? ` ${tr}` : ''));
    } else {
      let entries = root.entries;
      let head = 'pipeline';
      const first = entries[0];
      const nameLeading: string[] = [];
      let nameTrailing: string | undefined;
      if (first && first.key === 'name' && first.value.kind === 'scalar' && typeof first.value.value === 'string') {
        head += ` ${printString(first.value.value)}`;
        nameLeading.push(...(this.t.leading.get(first) ?? []));
        nameTrailing = this.t.trailing.get(first);
        entries = entries.slice(1);
      }
      out.push(...rootLeading, ...nameLeading);
      out.push(`${head} {${nameTrailing ? ` ${nameTrailing}` : ''}`);
      let prevGroup: string | undefined;
      entries.forEach((e, i) => {
        const g = this.group(e);
        const sugar = this.sectionDecls(e, 1);
        // Parsed declarations carry their blank line on the first declaration, not on the section they fill.
        const firstDecl = sugar && e.value.kind === 'map' ? e.value.entries[0] : undefined;
        const marked = this.t.blankBefore.has(e) || (firstDecl !== undefined && this.t.blankBefore.has(firstDecl));
        const blank = i > 0 && (marked || (this.auto && (g !== prevGroup || g.startsWith('map:'))));
        prevGroup = g;
        if (blank) out.push('');
        for (const c of this.t.leading.get(e) ?? []) out.push(INDENT + c);
        if (sugar) {
          out.push(...sugar);
          return;
        }
        const fusion = this.fusionDecl(e, 1);
        if (fusion) {
          out.push(fusion);
          return;
        }
        out.push(this.entryLine(e, 1, true));
      });
      for (const c of this.t.dangling.get(root) ?? []) out.push(INDENT + c);
      const tr = this.t.trailing.get(root);
      out.push(`}${tr ? ` ${tr}` : ''}`);
    }
    const footer = this.t.dangling.get(FILE_ANCHOR) ?? [];
    if (footer.length > 0) out.push(...footer);
    return `${out.join('\n')}\n`;
  }
}

/** Canonical .mmsa text of a tree; with the trivia of a parse, comments, blank lines and number spellings survive. */
export function printDsl(tree: SpecNode, comments?: PrintTrivia): string {
  return new Printer(comments).file(tree);
}

/** `mmsa fmt`: the canonical formatting of a .mmsa file, or its syntax diagnostics (then `text` is undefined). */
export function formatDsl(file: SourceFile): { text: string | undefined; diagnostics: Diagnostic[] } {
  const r = parseDslDetailed(file);
  if (!r.tree) return { text: undefined, diagnostics: r.diagnostics };
  return { text: printDsl(r.tree, r.trivia), diagnostics: r.diagnostics };
}

/** .mmsa text of any JSON value of a spec tree (the inverse of parseDsl + toValue). */
export function specToDsl(value: JsonValue): string {
  return printDsl(fromValue(value, { file: '<spec>', start: 0, end: 0 }));
}

/** YAML text of a spec value (the `yaml` package's printer: it quotes strings that would read as other types). */
export function specToYaml(value: JsonValue): string {
  return new Document(value).toString({ lineWidth: 0 });
}

export interface ConvertResult {
  text: string | undefined;
  diagnostics: Diagnostic[];
}

/** `mmsa convert x.yaml`: the .mmsa twin of a YAML spec, keeping YAML comments and number spellings where the DSL can. */
export function convertYamlToDsl(file: SourceFile): ConvertResult {
  const r = parseYaml(file);
  if (!r.tree) return { text: undefined, diagnostics: r.diagnostics };
  const trivia = yamlTrivia(file, r.tree);
  return { text: printDsl(r.tree, trivia), diagnostics: r.diagnostics };
}

/** `mmsa convert x.mmsa`: the YAML twin of a .mmsa spec, keeping comments and number spellings (5e-5, 0.0). */
export function convertDslToYaml(file: SourceFile): ConvertResult {
  const r = parseDslDetailed(file);
  if (!r.tree) return { text: undefined, diagnostics: r.diagnostics };
  const doc = new Document(toValue(r.tree));
  const root = doc.contents as YNode | null;
  if (root) decorateYaml(root, r.tree, r.trivia, file);
  const header = r.trivia.leading.get(r.tree);
  if (header && header.length > 0) doc.commentBefore = header.map(commentBody).join('\n');
  const footer = r.trivia.dangling.get(FILE_ANCHOR);
  if (footer && footer.length > 0) doc.comment = footer.map(commentBody).join('\n');
  return { text: doc.toString({ lineWidth: 0 }), diagnostics: r.diagnostics };
}

function commentBody(c: string): string {
  return c.replace(/^(?:#|\/\/)/, '');
}

/** Copies comments and number spellings from the DSL tree onto the YAML nodes built from the same value. */
function decorateYaml(y: YNode, n: SpecNode, t: DslTrivia, file: SourceFile): void {
  if (n.kind === 'scalar') {
    if (isScalar(y) && typeof n.value === 'number' && Number.isFinite(n.value)) {
      const text = file.text.slice(n.span.start, n.span.end);
      if (NUMBER_RE.test(text) && Number(text) === n.value) {
        if (/[eE]/.test(text)) y.format = 'EXP';
        else {
          const frac = /\.([0-9]+)$/.exec(text);
          if (frac) y.minFractionDigits = frac[1]!.length;
        }
      }
    }
    return;
  }
  if (n.kind === 'seq' && isSeq(y)) {
    n.items.forEach((it, i) => {
      const yi = y.items[i] as YNode | undefined;
      if (!yi) return;
      const lead = t.leading.get(it);
      if (lead) yi.commentBefore = lead.map(commentBody).join('\n');
      const tr = t.trailing.get(it);
      if (tr && isScalar(yi)) yi.comment = commentBody(tr);
      decorateYaml(yi, it, t, file);
    });
    return;
  }
  if (n.kind === 'map' && isMap(y)) {
    // toValue keeps the last of duplicate keys; match YAML pairs by key.
    const pairs = new Map<string, (typeof y.items)[number]>();
    for (const p of y.items) if (isPair(p) && isScalar(p.key)) pairs.set(String(p.key.value), p);
    const dang = t.dangling.get(n);
    for (const e of n.entries) {
      const p = pairs.get(e.key);
      if (!p || !isScalar(p.key)) continue;
      const lead = t.leading.get(e);
      if (lead) p.key.commentBefore = lead.map(commentBody).join('\n');
      const v = p.value as YNode | null;
      const tr = t.trailing.get(e);
      if (tr && v && isScalar(v)) v.comment = commentBody(tr);
      if (v) decorateYaml(v, e.value, t, file);
    }
    if (dang && dang.length > 0) y.comment = dang.map(commentBody).join('\n');
  }
}

/** Comments of a YAML file, attached to the entries of the tree parseYaml built from it. */
function yamlTrivia(file: SourceFile, tree: SpecNode): PrintTrivia {
  const trivia: DslTrivia = { leading: new Map(), trailing: new Map(), dangling: new Map(), blankBefore: new Set() };
  const doc = parseDocument(file.text, { uniqueKeys: false, keepSourceTokens: false });
  // yaml keeps blank lines inside comment blocks as empty lines; the edges carry no meaning here.
  const hash = (c: string) => {
    const lines = c.split('\n');
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
    return lines.map((l) => `#${l}`);
  };
  const addLeading = (k: object, lines: string[]) => trivia.leading.set(k, [...(trivia.leading.get(k) ?? []), ...lines]);
  if (doc.commentBefore) trivia.leading.set(tree, hash(doc.commentBefore));
  if (doc.comment) trivia.dangling.set(FILE_ANCHOR, hash(doc.comment));
  const walk = (y: YNode | null | undefined, n: SpecNode) => {
    if (!y) return;
    if (n.kind === 'map' && isMap(y)) {
      const entries = n.entries;
      let i = 0;
      for (const p of y.items) {
        if (!isPair(p) || !isScalar(p.key)) continue;
        const e = entries[i];
        if (!e || e.key !== String(p.key.value)) continue;
        i++;
        if (p.key.commentBefore) addLeading(e, hash(p.key.commentBefore));
        if (p.key.spaceBefore && i > 1) trivia.blankBefore.add(e);
        const v = p.value as YNode | null;
        // A comment after a scalar or a flow collection on the same line trails the entry.
        const flow = v && (isScalar(v) || ((isMap(v) || isSeq(v)) && v.flow));
        if (v && flow && v.comment && !v.comment.includes('\n')) trivia.trailing.set(e, `#${v.comment}`);
        // `key:   # note` above a block collection: the note goes first inside the DSL block.
        if (v && (isMap(v) || isSeq(v)) && v.commentBefore) {
          const inner = e.value.kind === 'map' ? e.value.entries[0] : e.value.kind === 'seq' ? e.value.items[0] : undefined;
          if (inner) addLeading(inner, hash(v.commentBefore));
          else trivia.dangling.set(e.value, hash(v.commentBefore));
        }
        walk(v, e.value);
      }
      if (y.comment && !y.flow) trivia.dangling.set(n, hash(y.comment));
    } else if (n.kind === 'seq' && isSeq(y)) {
      y.items.forEach((yi, i) => {
        const it = n.items[i];
        if (!it || !yi) return;
        const node = yi as YNode;
        if (node.commentBefore) addLeading(it, hash(node.commentBefore));
        if (isScalar(node) && node.comment && !node.comment.includes('\n')) trivia.trailing.set(it, `#${node.comment}`);
        walk(node, it);
      });
    }
  };
  walk(doc.contents as YNode | null, tree);
  // The comment block at the top of a YAML file belongs to its first key; in the DSL it heads the file.
  if (!doc.commentBefore && tree.kind === 'map' && tree.entries[0]) {
    const first = tree.entries[0];
    const lead = trivia.leading.get(first);
    if (lead) {
      trivia.leading.set(tree, lead);
      trivia.leading.delete(first);
    }
  }
  // Number spellings: a YAML literal the DSL reads the same way (5e-5, 0.0) is kept.
  return { ...trivia, source: file, autoBlankLines: true };
}
