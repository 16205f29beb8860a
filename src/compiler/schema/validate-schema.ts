// Validates a SpecTree against the pipeline or dataset-manifest JSON Schema and turns ajv errors into diagnostics
// with exact spans, one per real mistake. Phase 2 (schema).

import type { ErrorObject, ValidateFunction } from 'ajv';
import { makeDiagnostic, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean, suggestionHint } from '../../core/did-you-mean.js';
import type { Span } from '../source/source-file.js';
import { formatPath, spanAt, toValue, type PathSegment, type SpecNode } from '../spec/spec-tree.js';
import {
  datasetValidator,
  pipelineValidator,
  resolveRef,
  schemaLocation,
  subschemaValidator,
  type JsonSchema,
} from './schemas.js';
import { quickValidator } from './standalone.js';

export type SchemaTarget = 'pipeline' | 'dataset';

/** One problem to report: an ajv error, or "the value fits none of the alternatives' types". */
type Issue =
  | { kind: 'ajv'; error: ErrorObject; path: PathSegment[] }
  | { kind: 'no-branch'; path: PathSegment[]; types: string[]; value: unknown };

export function validateSchema(tree: SpecNode, what: SchemaTarget): Diagnostic[] {
  const value = toValue(tree);
  // A valid spec is the common case: the precompiled validator says so without compiling any schema.
  if (quickValidator(what)?.(value)) return [];
  const validate = what === 'pipeline' ? pipelineValidator() : datasetValidator();
  const issues = dropTypoDuplicates(collectIssues(validate, value, []));
  return sortDiagnostics(issues.map((i) => toDiagnostic(i, tree)));
}

/**
 * A misspelt required key (`hiden: 16`) fails twice: unknown `hiden` and missing `hidden`. The unknown-key diagnostic
 * already says "did you mean 'hidden'?", so the missing-key one is dropped.
 */
function dropTypoDuplicates(issues: Issue[]): Issue[] {
  const typoFixes = new Set<string>();
  for (const i of issues) {
    if (i.kind !== 'ajv' || i.error.keyword !== 'additionalProperties') continue;
    const parent = i.error.parentSchema as JsonSchema | undefined;
    const allowed = parent && isObject(parent.properties) ? Object.keys(parent.properties) : [];
    const fix = didYouMean(String((i.error.params as Record<string, unknown>).additionalProperty), allowed);
    if (fix !== undefined) typoFixes.add(JSON.stringify([...i.path, fix]));
  }
  return issues.filter(
    (i) =>
      !(i.kind === 'ajv' && i.error.keyword === 'required' &&
        typoFixes.has(JSON.stringify([...i.path, String((i.error.params as Record<string, unknown>).missingProperty)]))),
  );
}

// ---- collecting and de-noising ajv errors -------------------------------------------------------

const ALTERNATIVES = new Set(['anyOf', 'oneOf']);

function collectIssues(validate: ValidateFunction, value: unknown, prefix: PathSegment[]): Issue[] {
  if (validate(value)) return [];
  // Copy now: re-validating a branch below may reuse this very function and reset its `errors`.
  const errors = [...(validate.errors ?? [])];
  const located = errors.map((error) => ({ error, path: [...prefix, ...instanceSegments(error.instancePath, value)] }));

  // anyOf/oneOf/discriminator errors own every error at or under their path; outermost first.
  const owners = located
    .filter(({ error }) => error.keyword === 'discriminator' || (ALTERNATIVES.has(error.keyword) && !isDiscriminated(error)))
    .sort((a, b) => a.path.length - b.path.length);
  const owned: PathSegment[][] = [];
  const out: Issue[] = [];
  for (const o of owners) {
    if (owned.some((p) => isPrefix(p, o.path))) continue;
    owned.push(o.path);
    if (o.error.keyword === 'discriminator') out.push({ kind: 'ajv', error: o.error, path: o.path });
    else for (const d of resolveAlternatives(o.error, valueAt(value, o.path.slice(prefix.length)), o.path)) out.push(d);
  }
  for (const l of located) {
    const k = l.error.keyword;
    if (k === 'discriminator' || ALTERNATIVES.has(k) || k === 'propertyNames') continue;
    if (owned.some((p) => isPrefix(p, l.path))) continue;
    out.push({ kind: 'ajv', error: l.error, path: l.path });
  }
  return out;
}

function isDiscriminated(error: ErrorObject): boolean {
  const parent = error.parentSchema as JsonSchema | undefined;
  return error.keyword === 'oneOf' && parent !== undefined && parent.discriminator !== undefined;
}

/**
 * A failed anyOf/oneOf: report only the branch the value was meant for (re-validated on its own), or one type error
 * when the value's type fits no branch. Reporting every branch's errors would bury the real mistake.
 */
function resolveAlternatives(error: ErrorObject, value: unknown, path: PathSegment[]): Issue[] {
  const branches = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
  const loc = schemaLocation(error.parentSchema);
  if (error.keyword === 'oneOf' && (error.params as { passingSchemas?: unknown }).passingSchemas) {
    return [{ kind: 'ajv', error, path }];
  }
  const vt = jsonType(value);
  const candidates: { index: number; schema: JsonSchema; score: number }[] = [];
  const allTypes: string[] = [];
  branches.forEach((b, index) => {
    if (b === null || typeof b !== 'object') return;
    const schema = deref(b as JsonSchema);
    const types = typesOf(schema);
    for (const t of types ?? []) if (!allTypes.includes(t)) allTypes.push(t);
    if (types !== undefined && !types.some((t) => t === vt || (t === 'number' && vt === 'integer'))) return;
    candidates.push({ index, schema, score: branchScore(schema, value) });
  });
  if (candidates.length === 0 || !loc) return [{ kind: 'no-branch', path, types: allTypes, value }];
  let best = candidates[0]!;
  for (const c of candidates) if (c.score > best.score) best = c;
  const validate = subschemaValidator({ id: loc.id, pointer: `${loc.pointer}/${error.keyword}/${best.index}` });
  const issues = collectIssues(validate, value, path);
  // Cannot happen for a failed anyOf, but never lose the problem altogether.
  return issues.length > 0 ? issues : [{ kind: 'ajv', error, path }];
}

/**
 * How strongly a mapping looks meant for an object branch: a present discriminating `const` key (`type: synthetic`)
 * decides, then present required keys, then known keys. Ties keep the earlier branch.
 */
function branchScore(schema: JsonSchema, value: unknown): number {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 0;
  const obj = value as Record<string, unknown>;
  const props = isObject(schema.properties) ? (schema.properties as Record<string, unknown>) : {};
  let score = 0;
  for (const [k, p] of Object.entries(props)) if (isObject(p) && 'const' in p && k in obj) score += 100;
  if (Array.isArray(schema.required)) for (const k of schema.required) if (typeof k === 'string' && k in obj) score += 10;
  for (const k of Object.keys(obj)) if (k in props) score += 1;
  return score;
}

function deref(schema: JsonSchema, depth = 0): JsonSchema {
  if (typeof schema.$ref !== 'string' || depth > 20) return schema;
  const base = schemaLocation(schema)?.id;
  if (!base) return schema;
  const target = resolveRef(schema.$ref, base);
  return target ? deref(target, depth + 1) : schema;
}

/** JSON types a schema can accept, or undefined when it does not say. */
function typesOf(schema: JsonSchema): string[] | undefined {
  const s = deref(schema);
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === 'string');
  if ('const' in s) return [jsonType(s.const)];
  if (Array.isArray(s.enum)) return [...new Set(s.enum.map(jsonType))];
  const alts = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (alts) {
    const out: string[] = [];
    for (const a of alts) {
      if (!isObject(a)) return undefined;
      const ts = typesOf(a as JsonSchema);
      if (!ts) return undefined;
      for (const t of ts) if (!out.includes(t)) out.push(t);
    }
    return out;
  }
  return undefined;
}

// ---- paths and values ---------------------------------------------------------------------------

function instanceSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function isPrefix(prefix: readonly PathSegment[], path: readonly PathSegment[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((s, i) => s === path[i]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const TYPE_PHRASES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typePhrase(types: readonly string[]): string {
  return types.map((t) => TYPE_PHRASES[t] ?? t).join(' or ');
}

function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** `string "16"`, `number 1.5`, `a list`: what the user wrote, for type errors. */
function describeActual(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return `string ${clip(JSON.stringify(v))}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return `'${clip(v)}'`;
  if (v === undefined) return 'nothing';
  return clip(JSON.stringify(v) ?? String(v));
}

function describeProperty(schema: unknown): string {
  if (!isObject(schema)) return '';
  const s = deref(schema);
  const types = typesOf(s);
  let what = '';
  if (Array.isArray(s.enum)) what = `one of ${s.enum.map(formatValue).join(', ')}`;
  else if ('const' in s) what = formatValue(s.const);
  else if (types) what = typePhrase(types);
  // A property's own description names what it means there; a shared definition it refers to says it generally.
  const desc = typeof schema.description === 'string' ? schema.description : typeof s.description === 'string' ? s.description : '';
  if (what && desc) return ` (${what}): ${desc}`;
  if (what) return ` (${what})`;
  return desc ? `: ${desc}` : '';
}

// ---- ajv error -> diagnostic --------------------------------------------------------------------

const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

function toDiagnostic(issue: Issue, tree: SpecNode): Diagnostic {
  const path = issue.path;
  const where = formatPath(path);
  const valueSpan = spanAt(tree, path);
  if (issue.kind === 'no-branch') {
    return makeDiagnostic('MSA2003', valueSpan, { where, expected: typePhrase(issue.types), actual: describeActual(issue.value) });
  }
  const e = issue.error;
  const parent = isObject(e.parentSchema) ? (e.parentSchema as JsonSchema) : {};
  const params = e.params as Record<string, unknown>;
  const data: unknown = e.data;
  const last = path[path.length - 1];

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = isObject(parent.properties) ? Object.keys(parent.properties) : [];
      const hint = allowed.length > 0 ? suggestionHint(key, allowed, 'known keys') : `'${where}' takes no other keys; remove '${key}'`;
      return makeDiagnostic('MSA2001', spanAt(tree, [...path, key], { key: true }), { key, where }, { hint });
    }
    case 'required': {
      const key = String(params.missingProperty);
      const props = isObject(parent.properties) ? parent.properties : {};
      return makeDiagnostic('MSA2002', requiredSpan(tree, path), { key, where }, { hint: `add '${key}'${describeProperty(props[key])}` });
    }
    case 'type': {
      const types = String(params.type).split(',');
      return makeDiagnostic('MSA2003', valueSpan, { where, expected: typePhrase(types), actual: describeActual(data) });
    }
    case 'discriminator':
      return discriminatorDiagnostic(e, tree, path, where, parent, data);
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? (params.allowedValues as unknown[]) : [];
      if (last === 'type' && path.length >= 2) return unknownType(tree, path, kindFromPath(path), data, allowed);
      const strings = allowed.filter((a): a is string => typeof a === 'string');
      const close = typeof data === 'string' ? didYouMean(data, strings) : undefined;
      return makeDiagnostic(
        'MSA2006',
        valueSpan,
        { where, allowed: allowed.map(formatValue).join(', '), value: formatValue(data) },
        close !== undefined ? { hint: `did you mean '${close}'?` } : {},
      );
    }
    case 'const': {
      if (path.length === 1 && last === 'version') return makeDiagnostic('MSA2009', valueSpan, { version: formatValue(data) });
      if (last === 'type' && path.length >= 2) return unknownType(tree, path, kindFromPath(path), data, [params.allowedValue]);
      return makeDiagnostic('MSA2006', valueSpan, { where, allowed: formatValue(params.allowedValue), value: formatValue(data) });
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return makeDiagnostic('MSA2005', valueSpan, { where, constraint: `${String(params.comparison)} ${String(params.limit)}`, value: formatValue(data) });
    case 'pattern': {
      const pattern = String(params.pattern);
      const hint = pattern === IDENTIFIER_PATTERN ? 'use letters, digits and _, not starting with a digit' : undefined;
      if (typeof e.propertyName === 'string') {
        const name = e.propertyName;
        return makeDiagnostic(
          'MSA2007',
          spanAt(tree, [...path, name], { key: true }),
          { where: `names in ${where}`, pattern, value: formatValue(name) },
          hint ? { hint } : {},
        );
      }
      return makeDiagnostic('MSA2007', valueSpan, { where, pattern, value: formatValue(data) }, hint ? { hint } : {});
    }
    case 'uniqueItems': {
      const i = Number(params.i);
      const j = Number(params.j);
      const first = Math.min(i, j);
      const dup = Math.max(i, j);
      const items = Array.isArray(data) ? data : [];
      return makeDiagnostic(
        'MSA2010',
        spanAt(tree, [...path, dup]),
        { where, value: formatValue(items[dup]) },
        { hint: 'remove the repeated item', related: [{ span: spanAt(tree, [...path, first]), message: 'first appears here' }] },
      );
    }
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties': {
      const limit = Number(params.limit);
      const isArr = e.keyword.endsWith('Items');
      const unit = isArr ? (limit === 1 ? 'item' : 'items') : limit === 1 ? 'entry' : 'entries';
      const other = e.keyword.startsWith('min') ? parent[isArr ? 'maxItems' : 'maxProperties'] : parent[isArr ? 'minItems' : 'minProperties'];
      const bound = other === limit ? 'exactly' : e.keyword.startsWith('min') ? 'at least' : 'at most';
      const count = Array.isArray(data) ? data.length : isObject(data) ? Object.keys(data).length : 0;
      return makeDiagnostic('MSA2011', valueSpan, { where, constraint: `${bound} ${limit} ${unit}`, count });
    }
    default:
      return makeDiagnostic('MSA2008', valueSpan, { where, detail: e.message ?? e.keyword });
  }
}

/** A missing key is underlined at its parent's key (`audio:` of `encoders.audio`); at the top, at the file start. */
function requiredSpan(tree: SpecNode, path: PathSegment[]): Span {
  if (path.length === 0) return { file: tree.span.file, start: tree.span.start, end: tree.span.start };
  return spanAt(tree, path, { key: true });
}

function kindFromPath(path: PathSegment[]): string {
  const parent = path[path.length - 2];
  return typeof parent === 'string' ? parent : 'item';
}

function unknownType(tree: SpecNode, typePath: PathSegment[], kind: string, value: unknown, allowed: unknown[]): Diagnostic {
  const names = allowed.filter((a): a is string => typeof a === 'string');
  const typeText = typeof value === 'string' ? value : formatValue(value);
  const close = typeof value === 'string' ? didYouMean(value, names) : undefined;
  // A close match is the answer; the whole list (it grows with every component) only when nothing is close.
  const hint = close !== undefined ? `did you mean '${close}'?` : `valid ${kind} types: ${[...names].sort().join(', ')}`;
  return makeDiagnostic('MSA2004', spanAt(tree, typePath), { kind, type: typeText }, { hint });
}

function discriminatorDiagnostic(e: ErrorObject, tree: SpecNode, path: PathSegment[], where: string, parent: JsonSchema, data: unknown): Diagnostic {
  const params = e.params as { error?: string; tag?: string; tagValue?: unknown };
  const tag = params.tag ?? 'type';
  const ptr = schemaLocation(e.parentSchema)?.pointer ?? '';
  const kind = /\/\$defs\/(\w+)$/.exec(ptr)?.[1] ?? kindFromPath([...path, tag]);
  const props = isObject(parent.properties) ? parent.properties : {};
  const tagSchema = props[tag];
  let allowed: unknown[] = isObject(tagSchema) && Array.isArray(tagSchema.enum) ? tagSchema.enum : [];
  if (allowed.length === 0 && Array.isArray(parent.oneOf)) {
    allowed = parent.oneOf.map((b) => (isObject(b) ? deref(b) : {})).map((b) => (isObject(b.properties) ? (b.properties[tag] as JsonSchema | undefined)?.const : undefined));
  }
  const hasTag = isObject(data) && tag in data;
  if (!hasTag) {
    const typo = isObject(data) ? Object.keys(data).find((k) => didYouMean(k, [tag]) === tag) : undefined;
    if (typo !== undefined) {
      return makeDiagnostic('MSA2001', spanAt(tree, [...path, typo], { key: true }), { key: typo, where }, { hint: `did you mean '${tag}'?` });
    }
    const names = allowed.filter((a): a is string => typeof a === 'string').sort();
    return makeDiagnostic('MSA2002', requiredSpan(tree, path), { key: tag, where }, { hint: `add '${tag}: <${kind} type>', one of: ${names.join(', ')}` });
  }
  return unknownType(tree, [...path, tag], kind, params.tagValue ?? (data as Record<string, unknown>)[tag], allowed);
}
