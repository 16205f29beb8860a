// Parses YAML text into a spanned SpecTree, reporting syntax errors and duplicate keys as diagnostics.
// Phase 1 (parse), YAML front end.

import { isAlias, isMap, isScalar, isSeq, isPair, parseDocument, type Document, type Node as YNode } from 'yaml';
import { DiagnosticBag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { reportSourceProblem, type SourceFile, type Span } from '../../source/source-file.js';
import type { SpecEntry, SpecNode } from '../../spec/spec-tree.js';
import { MAX_NESTING } from '../limits.js';

export interface ParseResult {
  tree: SpecNode | undefined;
  diagnostics: Diagnostic[];
}

/**
 * Alias expansions a file may make, counting aliases inside anchored values each time they are copied: the limit of
 * mature YAML tools (the `yaml` package's maxAliasCount), which stops "billion laughs" files that expand a few
 * hundred bytes exponentially.
 */
export const MAX_ALIAS_EXPANSIONS = 100;

interface ConvertState {
  file: SourceFile;
  doc: Document;
  bag: DiagnosticBag;
  aliases: number;
  /** The alias written in the file whose expansion is being converted (nested aliases count against it). */
  outer: Span | undefined;
}

export function parseYaml(file: SourceFile): ParseResult {
  const bag = new DiagnosticBag();
  if (!reportSourceProblem(file, (code, span, args) => bag.add(code, span, args))) return { tree: undefined, diagnostics: bag.items };
  let doc: Document;
  try {
    doc = parseDocument(file.text, { uniqueKeys: false, prettyErrors: false, strict: true, keepSourceTokens: false });
  } catch (e) {
    // The yaml parser recurses per nested node (also for `a: b: c: ...` on one line): point at the densest line.
    if (!(e instanceof RangeError)) throw e;
    const [start, end] = densestLine(file.text);
    bag.add('MSA1008', file.span(start, end), { max: MAX_NESTING });
    return { tree: undefined, diagnostics: bag.items };
  }
  for (const err of doc.errors) {
    // yaml reports errors at the end of the input one past it: keep spans inside the text.
    const n = file.text.length;
    const start = Math.min(err.pos[0], n);
    const end = Math.min(Math.max(err.pos[1], start + 1), n);
    const detail = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    bag.add('MSA1001', file.span(start, end), { detail });
  }
  if (bag.hasErrors) return { tree: undefined, diagnostics: bag.items };
  if (doc.contents === null || doc.contents === undefined) {
    bag.add('MSA1005', file.span(0, 0));
    return { tree: undefined, diagnostics: bag.items };
  }
  const tree = convert(doc.contents as YNode, { file, doc, bag, aliases: 0, outer: undefined }, 0);
  // An alias bomb's partial expansion is no spec.
  if (bag.items.some((d) => d.code === 'MSA1007')) return { tree: undefined, diagnostics: bag.items };
  return { tree, diagnostics: bag.items };
}

/** [start, end) of the line with the most structure characters (`:`, `[`, `{`, `-`): where deep nesting is written. */
function densestLine(text: string): [number, number] {
  let best: [number, number] = [0, 0];
  let bestCount = -1;
  let start = 0;
  let count = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 10;
    if (c === 10) {
      if (count > bestCount) {
        bestCount = count;
        best = [start, i];
      }
      start = i + 1;
      count = 0;
    } else if (c === 58 || c === 91 || c === 123 || c === 45) count++;
  }
  return best;
}

function spanOf(node: { range?: [number, number, number] | null | undefined }, file: SourceFile, fallback: Span): Span {
  const r = node.range;
  if (!r) return fallback;
  return file.span(r[0], r[1]);
}

function convert(node: YNode | null, st: ConvertState, depth: number): SpecNode {
  const { file, doc, bag } = st;
  const whole = file.span(0, file.text.length);
  if (node === null || node === undefined) return { kind: 'scalar', span: whole, value: null };
  if (depth > MAX_NESTING) {
    bag.add('MSA1008', spanOf(node, file, whole), { max: MAX_NESTING });
    return { kind: 'scalar', span: spanOf(node, file, whole), value: null };
  }
  if (isAlias(node)) {
    const span = spanOf(node, file, whole);
    st.aliases += 1;
    if (st.aliases > MAX_ALIAS_EXPANSIONS) {
      // Reported once, at the alias the user wrote (not one inside the anchor it copies).
      const at = st.outer ?? span;
      if (st.aliases === MAX_ALIAS_EXPANSIONS + 1) bag.add('MSA1007', at, { alias: file.text.slice(at.start, at.end), max: MAX_ALIAS_EXPANSIONS });
      return { kind: 'scalar', span, value: null };
    }
    const target = node.resolve(doc);
    if (!target) {
      bag.add('MSA1001', span, { detail: `unknown alias *${node.source}` });
      return { kind: 'scalar', span, value: null };
    }
    // An alias reads as a copy of its anchor; errors inside it point at the anchored text.
    const outer = st.outer;
    if (outer === undefined) st.outer = span;
    const out = convert(target as YNode, st, depth + 1);
    st.outer = outer;
    return out;
  }
  if (isScalar(node)) {
    const span = spanOf(node, file, whole);
    const v = node.value;
    let value: string | number | boolean | null;
    if (v === null || v === undefined) value = null;
    else if (typeof v === 'string' || typeof v === 'boolean') value = v;
    else if (typeof v === 'number') value = v;
    else if (typeof v === 'bigint') value = Number(v);
    else {
      bag.add('MSA1003', span, { feature: `a scalar of type ${typeof v} (tag ${node.tag ?? 'none'})` });
      value = null;
    }
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' || node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
    return { kind: 'scalar', span, value, style: quoted ? 'quoted' : 'plain' };
  }
  if (isSeq(node)) {
    const span = spanOf(node, file, whole);
    return { kind: 'seq', span, items: node.items.map((it) => convert(it as YNode, st, depth + 1)) };
  }
  if (isMap(node)) {
    const span = spanOf(node, file, whole);
    const entries: SpecEntry[] = [];
    const firstSeen = new Map<string, Span>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YNode | null;
      let key: string;
      let keySpan: Span;
      if (keyNode && isScalar(keyNode)) {
        key = String(keyNode.value);
        keySpan = spanOf(keyNode, file, span);
      } else {
        keySpan = keyNode ? spanOf(keyNode, file, span) : span;
        bag.add('MSA1003', keySpan, { feature: 'a non-scalar mapping key' });
        continue;
      }
      if (key === '<<') {
        bag.add('MSA1003', keySpan, { feature: "YAML merge keys ('<<')" }, { hint: 'use `extends:` to share parts between specs' });
        continue;
      }
      const prev = firstSeen.get(key);
      if (prev) {
        bag.add('MSA1002', keySpan, { key }, { related: [{ span: prev, message: `'${key}' first appears here` }] });
      } else {
        firstSeen.set(key, keySpan);
      }
      const valueNode = pair.value as YNode | null;
      const value = valueNode === null || valueNode === undefined
        ? ({ kind: 'scalar', span: file.span(keySpan.end, keySpan.end), value: null } as SpecNode)
        : convert(valueNode, st, depth + 1);
      entries.push({ key, keySpan, value });
    }
    return { kind: 'map', span, entries };
  }
  const span = spanOf(node as { range?: [number, number, number] }, file, whole);
  bag.add('MSA1003', span, { feature: 'this node type' });
  return { kind: 'scalar', span, value: null };
}
