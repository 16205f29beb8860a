// SpecTree: the spanned map/seq/scalar tree both front ends (YAML, .mmsa DSL) produce.
// Output of phase 1 (parse); phases 2-5 map values back to spans through it.

import type { Span } from '../source/source-file.js';

export type Scalar = string | number | boolean | null;

export interface SpecEntry {
  key: string;
  keySpan: Span;
  value: SpecNode;
}

export interface SpecMap {
  kind: 'map';
  span: Span;
  entries: SpecEntry[];
}

export interface SpecSeq {
  kind: 'seq';
  span: Span;
  items: SpecNode[];
}

export interface SpecScalar {
  kind: 'scalar';
  span: Span;
  value: Scalar;
  /** How the scalar was written, when it matters for re-printing (quoted string, plain identifier, number text). */
  style?: 'plain' | 'quoted';
}

export type SpecNode = SpecMap | SpecSeq | SpecScalar;

export type PathSegment = string | number;
export type SpecPath = readonly PathSegment[];

export type JsonValue = Scalar | JsonValue[] | { [key: string]: JsonValue };

/** Plain JSON value of a tree (later duplicate keys win, matching YAML's last-wins reading). */
export function toValue(node: SpecNode): JsonValue {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toValue);
    case 'map': {
      const out: { [key: string]: JsonValue } = {};
      // defineProperty, so a key named `__proto__` stays a plain key instead of changing the prototype.
      for (const e of node.entries) Object.defineProperty(out, e.key, { value: toValue(e.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}

export function getEntry(map: SpecMap, key: string): SpecEntry | undefined {
  for (let i = map.entries.length - 1; i >= 0; i--) if (map.entries[i]!.key === key) return map.entries[i];
  return undefined;
}

export function getChild(node: SpecNode, seg: PathSegment): SpecNode | undefined {
  if (node.kind === 'map' && typeof seg === 'string') return getEntry(node, seg)?.value;
  if (node.kind === 'seq' && typeof seg === 'number') return node.items[seg];
  return undefined;
}

/** The node at a path, or undefined if the path leaves the tree. */
export function nodeAt(root: SpecNode, path: SpecPath): SpecNode | undefined {
  let cur: SpecNode | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    cur = getChild(cur, seg);
  }
  return cur;
}

/**
 * The best span for a path: the node itself, or the deepest ancestor that exists. With `key: true` the span of the
 * key of the last segment (e.g. to underline an unknown key rather than its whole value).
 */
export function spanAt(root: SpecNode, path: SpecPath, opts: { key?: boolean } = {}): Span {
  let cur: SpecNode = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (cur.kind === 'map' && typeof seg === 'string') {
      const e = getEntry(cur, seg);
      if (!e) return cur.span;
      if (opts.key && i === path.length - 1) return e.keySpan;
      cur = e.value;
    } else if (cur.kind === 'seq' && typeof seg === 'number') {
      const it = cur.items[seg];
      if (!it) return cur.span;
      cur = it;
    } else {
      return cur.span;
    }
  }
  return cur.span;
}

/** Builds a tree with synthetic spans from a plain value (for specs made in code, and for defaults). */
export function fromValue(value: JsonValue, span: Span): SpecNode {
  if (Array.isArray(value)) return { kind: 'seq', span, items: value.map((v) => fromValue(v, span)) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'map',
      span,
      entries: Object.entries(value).map(([key, v]) => ({ key, keySpan: span, value: fromValue(v, span) })),
    };
  }
  return { kind: 'scalar', span, value };
}

/** `a.b[2].c` rendering of a path for messages. */
export function formatPath(path: SpecPath): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? seg : `.${seg}`;
  }
  return s === '' ? 'the spec' : s;
}
