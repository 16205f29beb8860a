// Fills every schema `default` into the spec tree and records which paths were defaulted (for the lock file).
// Phase 3 (normalize), after schema validation succeeded.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemasDir } from '../../paths.js';
import { fromValue, getEntry, type JsonValue, type SpecMap, type SpecNode } from './spec-tree.js';

type Schema = { [k: string]: any };

interface Resolved {
  schema: Schema;
  file: string;
}

const schemaCache = new Map<string, Schema>();

function loadSchemaFile(rel: string): Schema {
  let s = schemaCache.get(rel);
  if (!s) {
    s = JSON.parse(readFileSync(join(schemasDir(), rel), 'utf8')) as Schema;
    schemaCache.set(rel, s);
  }
  return s;
}

function resolveRef(ref: string, file: string): Resolved {
  const [target, frag] = ref.split('#') as [string, string | undefined];
  const f = target === '' ? file : target;
  let s = loadSchemaFile(f);
  if (frag) for (const seg of frag.split('/').filter(Boolean)) s = s[seg];
  return { schema: s, file: f };
}

function deref(r: Resolved): Resolved {
  let cur = r;
  for (let i = 0; i < 20 && typeof cur.schema.$ref === 'string'; i++) cur = resolveRef(cur.schema.$ref, cur.file);
  return cur;
}

function isObjectSchema(s: Schema): boolean {
  return s.type === 'object' || s.properties !== undefined;
}

/** Picks the branch of a discriminated or plain union that describes this node. */
function pickBranch(node: SpecNode, r: Resolved): Resolved | undefined {
  const s = r.schema;
  const alts: Schema[] | undefined = s.oneOf ?? s.anyOf;
  if (!alts) return r;
  const branches = alts.map((a) => deref({ schema: a, file: r.file }));
  if (node.kind !== 'map') return undefined;
  const typeEntry = getEntry(node, 'type');
  const typeVal = typeEntry?.value.kind === 'scalar' ? typeEntry.value.value : undefined;
  let best: Resolved | undefined;
  let bestScore = -Infinity;
  for (const b of branches) {
    if (!isObjectSchema(b.schema)) continue;
    const props = b.schema.properties ?? {};
    const tconst = props.type?.const;
    if (tconst !== undefined && tconst !== typeVal) continue;
    const required: string[] = b.schema.required ?? [];
    let score = tconst !== undefined ? 100 : 0;
    for (const k of required) score += getEntry(node, k) ? 2 : -10;
    for (const e of node.entries) score += e.key in props ? 1 : -5;
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return best;
}

export interface FillResult {
  tree: SpecNode;
  /** Dotted paths that were filled from defaults. */
  defaulted: string[];
}

export function fillDefaults(tree: SpecNode, rootSchemaFile = 'pipeline.schema.json'): FillResult {
  const defaulted: string[] = [];
  const out = fill(tree, { schema: loadSchemaFile(rootSchemaFile), file: rootSchemaFile }, '', defaulted);
  return { tree: out, defaulted };
}

function fill(node: SpecNode, r0: Resolved, path: string, defaulted: string[]): SpecNode {
  let r = deref(r0);
  if (r.schema.oneOf || r.schema.anyOf) {
    const b = pickBranch(node, r);
    if (!b) return node;
    r = b;
  }
  const s = r.schema;
  if (node.kind === 'seq' && s.items && typeof s.items === 'object') {
    return { ...node, items: node.items.map((it, i) => fill(it, { schema: s.items, file: r.file }, `${path}[${i}]`, defaulted)) };
  }
  if (node.kind !== 'map' || !isObjectSchema(s)) return node;
  const props: Record<string, Schema> = s.properties ?? {};
  const entries = [...node.entries];
  for (const [k, ps] of Object.entries(props)) {
    if (!ps || !('default' in ps) || getEntry(node, k)) continue;
    const p = path ? `${path}.${k}` : k;
    defaulted.push(p);
    // Defaulted entries point at the map that lacks them: that is where a user would add the key.
    entries.push({ key: k, keySpan: { ...node.span, end: node.span.start }, value: fromValue(ps.default as JsonValue, { ...node.span, end: node.span.start }) });
  }
  const filled: SpecMap = {
    ...node,
    entries: entries.map((e) => {
      const p = path ? `${path}.${e.key}` : e.key;
      const ps = props[e.key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      return ps ? { ...e, value: fill(e.value, { schema: ps, file: r.file }, p, defaulted) } : e;
    }),
  };
  return filled;
}
