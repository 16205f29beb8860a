// `${NAME}` / `${NAME:-default}` interpolation of environment variables in string values (`$$` is a literal $).
// Phase 3 (normalize).

import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { SpecNode } from './spec-tree.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolationError {
  kind: 'unset' | 'syntax';
  name?: string;
  detail?: string;
  /** Offset of the problem inside the string. */
  at: number;
}

/** Expands one string; returns the result or the first error. */
export function interpolateString(s: string, env: Env): { value: string } | { error: InterpolationError } {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += c;
      i++;
      continue;
    }
    const close = s.indexOf('}', i + 2);
    if (close < 0) return { error: { kind: 'syntax', detail: "missing '}'", at: i } };
    const body = s.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/s.exec(body);
    if (!m) return { error: { kind: 'syntax', detail: `'${body}' is not a variable name`, at: i } };
    const name = m[1]!;
    const op = m[2];
    const dflt = m[3] ?? '';
    const v = env[name];
    if (v !== undefined && (v !== '' || op !== ':-')) out += v;
    else if (op !== undefined) out += dflt;
    else return { error: { kind: 'unset', name, at: i } };
    i = close + 1;
  }
  return { value: out };
}

/** Interpolates every string scalar of a tree in place (values only, never keys). */
export function interpolateTree(node: SpecNode, env: Env, bag: DiagnosticBag): SpecNode {
  switch (node.kind) {
    case 'scalar': {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return node;
      const r = interpolateString(node.value, env);
      if ('value' in r) return { ...node, value: r.value };
      if (r.error.kind === 'unset') bag.add('MSA2103', node.span, { name: r.error.name });
      else bag.add('MSA2104', node.span, { text: JSON.stringify(node.value), detail: r.error.detail });
      return node;
    }
    case 'seq':
      return { ...node, items: node.items.map((n) => interpolateTree(n, env, bag)) };
    case 'map':
      return { ...node, entries: node.entries.map((e) => ({ ...e, value: interpolateTree(e.value, env, bag) })) };
  }
}
