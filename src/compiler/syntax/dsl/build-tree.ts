// CST visitor: .mmsa CST -> spanned SpecTree (same shape as parseYaml's), expanding the declaration sugar and
// recording the layout comments attach to. Phase 1 (parse), DSL front end.

import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { DiagnosticBag } from '../../diagnostics/diagnostic.js';
import type { SourceFile, Span } from '../../source/source-file.js';
import type { SpecEntry, SpecMap, SpecNode, SpecScalar, SpecSeq } from '../../spec/spec-tree.js';
import { dslParser } from './parser.js';

type Ctx = Record<string, CstElement[] | undefined>;

/** A syntactic container (file, pipeline body, block, list) and the source ranges of its children, for comments. */
export interface LayoutContainer {
  /** Object dangling comments attach to: the map/seq node, or FILE_ANCHOR for the whole file. */
  target: object;
  start: number;
  end: number;
  children: LayoutChild[];
}

export interface LayoutChild {
  start: number;
  end: number;
  /** The SpecEntry (map children) or SpecNode (list items, the root) the comments before/after it belong to. */
  target: object;
}

/** Anchor for comments after the last construct of the file. */
export const FILE_ANCHOR: object = Object.freeze({ file: true });

/** Collection keys the top-level sugar fills. */
export const SUGAR_SECTIONS = { modalityDecl: 'modalities', encoderDecl: 'encoders', headDecl: 'heads', taskDecl: 'tasks' } as const;

function isToken(e: CstElement | undefined): e is IToken {
  return e !== undefined && (e as IToken).image !== undefined;
}

function isNode(e: CstElement | undefined): e is CstNode {
  return e !== undefined && (e as CstNode).children !== undefined;
}

function tok(ctx: Ctx, name: string, i = 0): IToken | undefined {
  const e = ctx[name]?.[i];
  if (!isToken(e) || e.isInsertedInRecovery || Number.isNaN(e.startOffset)) return undefined;
  return e;
}

function node(ctx: Ctx, name: string, i = 0): CstNode | undefined {
  const e = ctx[name]?.[i];
  return isNode(e) ? e : undefined;
}

function nodes(ctx: Ctx, name: string): CstNode[] {
  return (ctx[name] ?? []).filter(isNode);
}

/** The first real token of any child list (children are grouped by name, so look at all of them). */
function firstToken(ctx: Ctx): IToken | undefined {
  let best: IToken | undefined;
  for (const list of Object.values(ctx)) {
    for (const e of list ?? []) {
      const t = isToken(e) ? (e.isInsertedInRecovery || Number.isNaN(e.startOffset) ? undefined : e) : firstToken(e.children);
      if (t && (!best || t.startOffset < best.startOffset)) best = t;
    }
  }
  return best;
}

function lastToken(ctx: Ctx): IToken | undefined {
  let best: IToken | undefined;
  for (const list of Object.values(ctx)) {
    for (const e of list ?? []) {
      const t = isToken(e) ? (e.isInsertedInRecovery || Number.isNaN(e.startOffset) ? undefined : e) : lastToken(e.children);
      if (t && (!best || t.startOffset > best.startOffset)) best = t;
    }
  }
  return best;
}

/** Reads the text between the quotes of a string token; escapes follow JSON plus `\'`. */
export function unescapeDsl(body: string): { value: string; bad: { offset: number; text: string }[] } {
  let out = '';
  const bad: { offset: number; text: string }[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[i + 1];
    i++;
    switch (n) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case "'": out += "'"; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'u': {
        const hex = body.slice(i + 1, i + 5);
        if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else {
          bad.push({ offset: i - 1, text: `\\u${hex.replace(/[^0-9A-Fa-f].*$/, '')}` });
        }
        break;
      }
      case undefined:
        bad.push({ offset: i - 1, text: '\\' });
        break;
      default:
        bad.push({ offset: i - 1, text: `\\${n}` });
        out += n;
    }
  }
  return { value: out, bad };
}

export interface BuildResult {
  tree: SpecNode | undefined;
  layout: LayoutContainer[];
}

const BaseVisitor = dslParser.getBaseCstVisitorConstructor<unknown, unknown>();

/** Builds the SpecTree; semantic-free except for the sugar expansion and duplicate-key checks YAML also makes. */
export class DslTreeBuilder extends BaseVisitor {
  readonly layout: LayoutContainer[] = [];

  constructor(
    private readonly src: SourceFile,
    private readonly bag: DiagnosticBag,
  ) {
    super();
  }

  private spanOf(t: IToken): Span {
    return this.src.span(t.startOffset, t.endOffset! + 1);
  }

  private spanBetween(a: IToken | undefined, b: IToken | undefined, fallback: Span): Span {
    if (!a && !b) return fallback;
    const start = (a ?? b)!.startOffset;
    const end = (b ?? a)!.endOffset! + 1;
    return this.src.span(start, Math.max(start, end));
  }

  build(cst: CstNode): BuildResult {
    const tree = this.visit(cst) as SpecNode | undefined;
    return { tree, layout: this.layout };
  }

  file(ctx: Ctx): SpecNode | undefined {
    const p = node(ctx, 'pipelineDecl');
    const v = node(ctx, 'value');
    const root = p ? (this.visit(p) as SpecNode) : v ? (this.visit(v) as SpecNode) : undefined;
    if (root) {
      this.layout.push({ target: FILE_ANCHOR, start: 0, end: this.src.text.length, children: [{ start: root.span.start, end: root.span.end, target: root }] });
    }
    return root;
  }

  pipelineDecl(ctx: Ctx): SpecMap {
    const kw = tok(ctx, 'Pipeline');
    const lb = tok(ctx, 'LBrace');
    const rb = tok(ctx, 'RBrace');
    const whole = this.spanBetween(kw, rb ?? lastToken(ctx), this.src.span(0, 0));
    const root: SpecMap = { kind: 'map', span: whole, entries: [] };
    const container: LayoutContainer = { target: root, start: lb ? lb.endOffset! + 1 : whole.start, end: rb ? rb.startOffset : whole.end, children: [] };
    const nameNode = node(ctx, 'name');
    if (nameNode) {
      const name = this.scalarOfName(nameNode);
      if (name) {
        const entry: SpecEntry = { key: 'name', keySpan: kw ? this.spanOf(kw) : name.span, value: name };
        root.entries.push(entry);
      }
    }
    const sections = new Map<string, SpecEntry>();
    for (const be of nodes(ctx, 'bodyEntry')) {
      const inner = Object.values(be.children)[0]?.[0];
      if (!isNode(inner)) continue;
      const first = firstToken(inner.children);
      const last = lastToken(inner.children);
      if (!first || !last) continue;
      const range = { start: first.startOffset, end: last.endOffset! + 1 };
      if (inner.name === 'topEntry') {
        const entry = this.topEntry(inner.children);
        if (!entry) continue;
        root.entries.push(entry);
        container.children.push({ ...range, target: entry });
        continue;
      }
      if (inner.name === 'fusionDecl') {
        const entry = this.fusionDecl(inner.children, range);
        root.entries.push(entry);
        container.children.push({ ...range, target: entry });
        continue;
      }
      const sectionKey = SUGAR_SECTIONS[inner.name as keyof typeof SUGAR_SECTIONS];
      if (!sectionKey) continue;
      const kwTok = first;
      let section = sections.get(sectionKey);
      if (!section) {
        section = { key: sectionKey, keySpan: this.spanOf(kwTok), value: { kind: 'map', span: this.src.span(range.start, range.end), entries: [] } };
        sections.set(sectionKey, section);
        root.entries.push(section);
      }
      const sectionMap = section.value as SpecMap;
      sectionMap.span = this.src.span(sectionMap.span.start, Math.max(sectionMap.span.end, range.end));
      const entry = this.declEntry(inner, range);
      if (!entry) continue;
      sectionMap.entries.push(entry);
      container.children.push({ ...range, target: entry });
    }
    this.checkDuplicates(root);
    for (const s of sections.values()) this.checkDuplicates(s.value as SpecMap);
    this.layout.push(container);
    return root;
  }

  /** `modality X {..}`, `encoder X: t {..}`, `head X: t on in {..}`, `task X: t {..}` -> one entry of its section. */
  private declEntry(decl: CstNode, range: { start: number; end: number }): SpecEntry | undefined {
    const ctx = decl.children;
    const names = nodes(ctx, 'name');
    const nameNode = names[0];
    const key = nameNode ? this.scalarOfName(nameNode) : undefined;
    if (!key || typeof key.value !== 'string') return undefined;
    const value: SpecMap = { kind: 'map', span: this.src.span(range.start, range.end), entries: [] };
    const typeNode = nodes(ctx, 'type')[0];
    if (typeNode) {
      const t = this.scalarOfName(typeNode);
      if (t) value.entries.push({ key: 'type', keySpan: t.span, value: t });
    }
    const inputNode = nodes(ctx, 'input')[0];
    if (inputNode) {
      const i = this.scalarOfName(inputNode);
      const on = tok(ctx, 'On');
      if (i) value.entries.push({ key: 'input', keySpan: on ? this.spanOf(on) : i.span, value: i });
    }
    const blockNode = node(ctx, 'block');
    if (blockNode) {
      this.block(blockNode.children, value);
      // A modality is nothing but its block, so its value points there; the others start at their keyword.
      const lb = tok(blockNode.children, 'LBrace');
      if (decl.name === 'modalityDecl' && lb) value.span = this.spanBetween(lb, tok(blockNode.children, 'RBrace') ?? lastToken(blockNode.children), value.span);
    }
    this.checkDuplicates(value);
    return { key: key.value, keySpan: key.span, value };
  }

  private fusionDecl(ctx: Ctx, range: { start: number; end: number }): SpecEntry {
    const kw = tok(ctx, 'Fusion')!;
    const value: SpecMap = { kind: 'map', span: this.src.span(range.start, range.end), entries: [] };
    const typeNode = nodes(ctx, 'type')[0];
    const t = typeNode ? this.scalarOfName(typeNode) : undefined;
    if (t) value.entries.push({ key: 'type', keySpan: t.span, value: t });
    const lp = tok(ctx, 'LParen');
    const rp = tok(ctx, 'RParen');
    const inputs = nodes(ctx, 'input').map((n) => this.scalarOfName(n)).filter((s): s is SpecScalar => s !== undefined);
    const seqSpan = this.spanBetween(lp, rp, this.src.span(range.start, range.end));
    const seq: SpecSeq = { kind: 'seq', span: seqSpan, items: inputs };
    value.entries.push({ key: 'inputs', keySpan: seqSpan, value: seq });
    const parens: LayoutContainer = { target: seq, start: lp ? lp.endOffset! + 1 : seqSpan.start, end: rp ? rp.startOffset : seqSpan.end, children: inputs.map((s) => ({ start: s.span.start, end: s.span.end, target: s })) };
    this.layout.push(parens);
    const blockNode = node(ctx, 'block');
    if (blockNode) this.block(blockNode.children, value);
    this.checkDuplicates(value);
    return { key: 'fusion', keySpan: this.spanOf(kw), value };
  }

  topEntry(ctx: Ctx): SpecEntry | undefined {
    const keyTok = tok(ctx, 'key');
    if (!keyTok) return undefined;
    const key = this.keyOfToken(keyTok);
    const keySpan = this.spanOf(keyTok);
    this.strayColon(ctx, key);
    const v = node(ctx, 'value');
    const value = v ? (this.visit(v) as SpecNode) : this.missing(keySpan);
    return { key, keySpan, value };
  }

  entry(ctx: Ctx): SpecEntry | undefined {
    const k = node(ctx, 'key');
    const key = k ? this.scalarOfName(k) : undefined;
    if (!key) return undefined;
    this.strayColon(ctx, String(key.value));
    const v = node(ctx, 'value');
    const value = v ? (this.visit(v) as SpecNode | undefined) ?? this.missing(key.span) : this.missing(key.span);
    return { key: String(key.value), keySpan: key.span, value };
  }

  private strayColon(ctx: Ctx, key: string): void {
    const colon = tok(ctx, 'Colon');
    if (colon) this.bag.add('MSA1020', this.spanOf(colon), { key });
  }

  private missing(after: Span): SpecScalar {
    return { kind: 'scalar', span: this.src.span(after.end, after.end), value: null };
  }

  value(ctx: Ctx): SpecNode | undefined {
    const inner = node(ctx, 'block') ?? node(ctx, 'list') ?? node(ctx, 'scalar');
    if (!inner) return undefined;
    if (inner.name === 'block') return this.block(inner.children);
    return this.visit(inner) as SpecNode | undefined;
  }

  /** A `{ ... }` block; with `into`, its entries are appended to an existing map (the sugar's synthesized one). */
  block(ctx: Ctx, into?: SpecMap): SpecMap {
    const lb = tok(ctx, 'LBrace');
    const rb = tok(ctx, 'RBrace');
    const span = this.spanBetween(lb, rb ?? lastToken(ctx), this.src.span(0, 0));
    const map: SpecMap = into ?? { kind: 'map', span, entries: [] };
    const container: LayoutContainer = { target: map, start: lb ? lb.endOffset! + 1 : span.start, end: rb ? rb.startOffset : span.end, children: [] };
    for (const en of nodes(ctx, 'entry')) {
      const e = this.entry(en.children);
      if (!e) continue;
      map.entries.push(e);
      const first = firstToken(en.children);
      const last = lastToken(en.children);
      container.children.push({ start: first?.startOffset ?? e.keySpan.start, end: last ? last.endOffset! + 1 : e.value.span.end, target: e });
    }
    if (!into) this.checkDuplicates(map);
    this.layout.push(container);
    return map;
  }

  list(ctx: Ctx): SpecSeq {
    const lb = tok(ctx, 'LBracket');
    const rb = tok(ctx, 'RBracket');
    const span = this.spanBetween(lb, rb ?? lastToken(ctx), this.src.span(0, 0));
    const seq: SpecSeq = { kind: 'seq', span, items: [] };
    const container: LayoutContainer = { target: seq, start: lb ? lb.endOffset! + 1 : span.start, end: rb ? rb.startOffset : span.end, children: [] };
    for (const vn of nodes(ctx, 'value')) {
      const item = this.visit(vn) as SpecNode | undefined;
      if (!item) continue;
      seq.items.push(item);
      container.children.push({ start: item.span.start, end: item.span.end, target: item });
    }
    this.layout.push(container);
    return seq;
  }

  scalar(ctx: Ctx): SpecScalar | undefined {
    const nameNode = node(ctx, 'name');
    if (nameNode) return this.scalarOfName(nameNode);
    const t = tok(ctx, 'NumberLit') ?? tok(ctx, 'SpecialFloat') ?? tok(ctx, 'BadNumber') ?? tok(ctx, 'True') ?? tok(ctx, 'False') ?? tok(ctx, 'Null') ?? tok(ctx, 'UnterminatedString') ?? tok(ctx, 'SingleQuotedString');
    if (!t) return undefined;
    const span = this.spanOf(t);
    switch (t.tokenType.name) {
      case 'NumberLit':
        return { kind: 'scalar', span, value: Number(t.image), style: 'plain' };
      case 'SpecialFloat': {
        const v = /nan/i.test(t.image) ? NaN : t.image.startsWith('-') ? -Infinity : Infinity;
        return { kind: 'scalar', span, value: v, style: 'plain' };
      }
      case 'BadNumber':
        this.bag.add('MSA1014', span, { text: t.image }, { hint: 'numbers are written like 32, -1, 0.5 or 5e-5; quote the text to make it a string' });
        return { kind: 'scalar', span, value: null, style: 'plain' };
      case 'True':
        return { kind: 'scalar', span, value: true, style: 'plain' };
      case 'False':
        return { kind: 'scalar', span, value: false, style: 'plain' };
      case 'Null':
        return { kind: 'scalar', span, value: null, style: 'plain' };
      case 'SingleQuotedString': {
        const closed = t.image.length > 1 && t.image.endsWith("'");
        const body = closed ? t.image.slice(1, -1) : t.image.slice(1);
        this.bag.add('MSA1023', span, { text: t.image }, { hint: `write it in double quotes: ${JSON.stringify(body)}` });
        return { kind: 'scalar', span, value: body, style: 'quoted' };
      }
      case 'UnterminatedString': {
        this.bag.add('MSA1011', span, {}, { hint: 'close the string with `"` on the same line (write a line break inside a string as \\n)' });
        const body = t.image.slice(1);
        return { kind: 'scalar', span, value: unescapeDsl(body).value, style: 'quoted' };
      }
    }
    return undefined;
  }

  name(ctx: Ctx): SpecScalar | undefined {
    const t = firstToken(ctx);
    if (!t) return undefined;
    if (t.tokenType.name === 'StringLit') return this.stringScalar(t);
    return { kind: 'scalar', span: this.spanOf(t), value: t.image, style: 'plain' };
  }

  private scalarOfName(n: CstNode): SpecScalar | undefined {
    return this.visit(n) as SpecScalar | undefined;
  }

  private keyOfToken(t: IToken): string {
    if (t.tokenType.name === 'StringLit') return String(this.stringScalar(t).value);
    return t.image;
  }

  private stringScalar(t: IToken): SpecScalar {
    const span = this.spanOf(t);
    const { value, bad } = unescapeDsl(t.image.slice(1, -1));
    for (const b of bad) {
      const start = t.startOffset + 1 + b.offset;
      this.bag.add('MSA1021', this.src.span(start, start + b.text.length), { escape: b.text });
    }
    return { kind: 'scalar', span, value, style: 'quoted' };
  }

  private checkDuplicates(map: SpecMap): void {
    const first = new Map<string, Span>();
    for (const e of map.entries) {
      const prev = first.get(e.key);
      if (prev) this.bag.add('MSA1002', e.keySpan, { key: e.key }, { related: [{ span: prev, message: `'${e.key}' first appears here` }] });
      else first.set(e.key, e.keySpan);
    }
  }
}

export function buildDslTree(cst: CstNode, file: SourceFile, bag: DiagnosticBag): BuildResult {
  return new DslTreeBuilder(file, bag).build(cst);
}
