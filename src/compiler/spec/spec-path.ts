// Spec paths (`encoders.audio.hidden`, `train.optimizer.groups[subnets].lr`, `seeds[0]`): parse one, read the value
// it names and set a value there in a spanned tree. Phase 3 (normalize); shared by tuning and command-line overrides.

import type { Span } from '../source/source-file.js';
import { getEntry, type JsonValue, type SpecEntry, type SpecMap, type SpecNode } from './spec-tree.js';

/** A map key, a list position, or the list element whose `name` is the given one (`groups[subnets]`). */
export type SpecPathSegment = { key: string } | { index: number } | { named: string };

export type ParsedSpecPath = { ok: true; segments: SpecPathSegment[] } | { ok: false; message: string };

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Reads `a.b[name].c[0]`. Keys are names; `[n]` picks list position n, `[name]` the element whose `name` is name. */
export function parseSpecPath(text: string): ParsedSpecPath {
  const segments: SpecPathSegment[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]|(\.)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    m = re.exec(text);
    if (!m) return { ok: false, message: `'${text}' is not a spec path: unexpected '${text[pos]}' at position ${pos + 1}` };
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey) return { ok: false, message: `'${text}' is not a spec path: a '.' must separate '${m[1]}' from what precedes it` };
      if (!KEY.test(m[1])) return { ok: false, message: `'${text}' is not a spec path: '${m[1]}' is not a key (keys are names like train, batch_size)` };
      segments.push({ key: m[1] });
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (expectKey) return { ok: false, message: `'${text}' is not a spec path: '[${m[2]}]' must follow a key` };
      const inner = m[2].trim();
      if (/^[0-9]+$/.test(inner)) segments.push({ index: Number(inner) });
      else if (KEY.test(inner)) segments.push({ named: inner });
      else return { ok: false, message: `'${text}' is not a spec path: '[${m[2]}]' must hold a list position (0, 1, ...) or an element's name` };
    } else {
      if (expectKey) return { ok: false, message: `'${text}' is not a spec path: a key is missing before '.' at position ${pos}` };
      expectKey = true;
    }
  }
  if (segments.length === 0 || expectKey) return { ok: false, message: `'${text}' is not a spec path: it ends without a key` };
  return { ok: true, segments };
}

export function formatSpecPath(segments: readonly SpecPathSegment[]): string {
  let s = '';
  for (const seg of segments) {
    if ('key' in seg) s += s === '' ? seg.key : `.${seg.key}`;
    else if ('index' in seg) s += `[${seg.index}]`;
    else s += `[${seg.named}]`;
  }
  return s;
}

export type SetResult = { ok: true; tree: SpecNode } | { ok: false; message: string; hint?: string; at: string };

function namesOf(items: readonly SpecNode[]): string[] {
  const out: string[] = [];
  for (const it of items) {
    const n = it.kind === 'map' ? getEntry(it, 'name')?.value : undefined;
    if (n && n.kind === 'scalar' && typeof n.value === 'string') out.push(n.value);
  }
  return out;
}

/**
 * `tree` with `value` at `segments`. Missing map keys are created (the schema pass judges them; `span` is where
 * created keys point); list selectors must find their element. Nothing else of the tree changes.
 */
export function setSpecPath(tree: SpecNode, segments: readonly SpecPathSegment[], value: SpecNode, span: Span): SetResult {
  const walk = (node: SpecNode | undefined, i: number): SetResult => {
    if (i === segments.length) return { ok: true, tree: value };
    const seg = segments[i]!;
    const here = formatSpecPath(segments.slice(0, i)) || 'the spec';
    if ('key' in seg) {
      if (node !== undefined && node.kind !== 'map') return { ok: false, message: `${here} is ${node.kind === 'seq' ? 'a list' : 'a value'}, not a mapping with key '${seg.key}'`, at: here };
      const map: SpecMap = node ?? { kind: 'map', span, entries: [] };
      const idx = lastIndexOf(map.entries, seg.key);
      const child = idx >= 0 ? map.entries[idx]!.value : undefined;
      const r = walk(child, i + 1);
      if (!r.ok) return r;
      const entry: SpecEntry = { key: seg.key, keySpan: idx >= 0 ? map.entries[idx]!.keySpan : span, value: r.tree };
      return { ok: true, tree: { ...map, entries: idx >= 0 ? map.entries.map((e, j) => (j === idx ? entry : e)) : [...map.entries, entry] } };
    }
    if (node === undefined || node.kind !== 'seq') {
      return { ok: false, message: `${here} is ${node === undefined ? 'not in the spec' : 'not a list'}, so '${'index' in seg ? seg.index : seg.named}' selects nothing`, at: here };
    }
    let pos: number;
    if ('index' in seg) {
      pos = seg.index;
      if (pos >= node.items.length) return { ok: false, message: `${here} has ${node.items.length} element(s); [${pos}] is past its end`, at: here };
    } else {
      const names = namesOf(node.items);
      pos = node.items.findIndex((it) => it.kind === 'map' && getEntry(it, 'name')?.value.kind === 'scalar' && (getEntry(it, 'name')!.value as { value: unknown }).value === seg.named);
      if (pos < 0) {
        return { ok: false, message: `${here} has no element named '${seg.named}'`, hint: names.length ? `its elements are named ${names.map((n) => `'${n}'`).join(', ')}` : 'its elements have no `name`; select one by position, e.g. [0]', at: here };
      }
    }
    const r = walk(node.items[pos], i + 1);
    if (!r.ok) return r;
    return { ok: true, tree: { ...node, items: node.items.map((it, j) => (j === pos ? r.tree : it)) } };
  };
  return walk(tree, 0);
}

function lastIndexOf(entries: readonly SpecEntry[], key: string): number {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return i;
  return -1;
}

/** The value a path names in a plain JSON spec, or undefined when the path leaves it. */
export function getSpecPath(spec: JsonValue, segments: readonly SpecPathSegment[]): JsonValue | undefined {
  let cur: JsonValue | undefined = spec;
  for (const seg of segments) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined;
    if ('key' in seg) cur = Array.isArray(cur) ? undefined : cur[seg.key];
    else if (!Array.isArray(cur)) return undefined;
    else if ('index' in seg) cur = cur[seg.index];
    else cur = cur.find((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && x['name'] === seg.named);
  }
  return cur;
}
