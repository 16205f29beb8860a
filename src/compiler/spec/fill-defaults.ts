// Fills every schema `default` into the spec tree and records which paths were defaulted (for the lock file).
// Phase 3 (normalize), after schema validation succeeded.

import { resolveRef as resolveSchemaRef, schemaDocument, schemaDocumentById } from '../schema/schemas.js';
import { fromValue, getEntry, type JsonValue, type SpecMap, type SpecNode } from './spec-tree.js';

type Schema = { [k: string]: any };

interface Resolved {
  schema: Schema;
  file: string;
}

function loadSchemaFile(file: string): Schema {
  const doc = schemaDocument(file);
  if (!doc) throw new Error(`mmsa: schema ${file} is missing from the package`);
  return doc.schema as Schema;
}

/** Follows a $ref of the document `file`, tracking which document the result lives in. */
function resolveRef(ref: string, file: string): Resolved {
  const baseId = schemaDocument(file)!.id;
  const schema = resolveSchemaRef(ref, baseId);
  if (!schema) throw new Error(`mmsa: unresolved $ref ${ref} in ${file}`);
  const target = ref.split('#')[0] ?? '';
  const targetFile = target === '' ? file : (schemaDocumentById(new URL(target, baseId).href)?.file ?? file);
  return { schema: schema as Schema, file: targetFile };
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
  // A union's branch may be a union itself (`scheduler | null` whose scheduler is discriminated by type).
  for (let depth = 0; depth < 5 && (r.schema.oneOf || r.schema.anyOf); depth++) {
    const b = pickBranch(node, r);
    if (!b) return node;
    if (b === r) break;
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
    if (!ps || !Object.hasOwn(ps, 'default') || getEntry(node, k)) continue;
    const p = path ? `${path}.${k}` : k;
    defaulted.push(p);
    // Defaulted entries point at the map that lacks them: that is where a user would add the key.
    entries.push({ key: k, keySpan: { ...node.span, end: node.span.start }, value: fromValue(ps.default as JsonValue, { ...node.span, end: node.span.start }) });
  }
  // Canonical key order: the schema's property order (user-named keys of open maps keep their order).
  const order = Object.keys(props);
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  entries.sort((a, b) => rank(a.key) - rank(b.key));
  const filled: SpecMap = {
    ...node,
    entries: entries.map((e) => {
      const p = path ? `${path}.${e.key}` : e.key;
      const ps = (Object.hasOwn(props, e.key) ? props[e.key] : undefined) ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      return ps ? { ...e, value: fill(e.value, { schema: ps, file: r.file }, p, defaulted) } : e;
    }),
  };
  return filled;
}
