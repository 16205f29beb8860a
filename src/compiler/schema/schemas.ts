// Loads the JSON Schemas shipped in the package's `schemas/` directory and compiles one shared Ajv 2020-12 instance.
// Phase 2 (schema); normalization (phase 3) reads component defaults through componentSchema().

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { schemasDir } from '../../paths.js';
import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { ComponentKind } from '../../components/component.js';

/** A JSON Schema document or subschema, as parsed from disk. */
export type JsonSchema = { [key: string]: unknown };

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export interface SchemaDocument {
  /** Path under schemas/, with `/` separators: `pipeline.schema.json`, `components/encoders/lstm.schema.json`. */
  file: string;
  /** The document's `$id`. */
  id: string;
  schema: JsonSchema;
}

/** Where a schema object sits: its document's `$id` and a JSON pointer inside it. */
export interface SchemaLocation {
  id: string;
  pointer: string;
}

export const PIPELINE_SCHEMA_FILE = 'pipeline.schema.json';
export const DATASET_SCHEMA_FILE = 'dataset.schema.json';

const KIND_DIRS: Record<ComponentKind, string> = { encoder: 'encoders', fusion: 'fusions', head: 'heads', task: 'tasks' };

export { packageRoot, schemasDir } from '../../paths.js';

function listSchemaFiles(dir: string): string[] {
  const out: string[] = [];
  // Entry types from readdir itself: a stat per file is a measurable part of `mmsa check`'s cold start.
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSchemaFiles(p));
    else if (entry.name.endsWith('.schema.json')) out.push(p);
  }
  return out;
}

interface Loaded {
  docs: SchemaDocument[];
  byFile: Map<string, SchemaDocument>;
  byId: Map<string, SchemaDocument>;
  /** Built on first use: only diagnostics need it, and walking every schema node costs a valid check's cold start. */
  locations?: WeakMap<object, SchemaLocation>;
  /** SHA-256 over every schema file's name and text: ties precompiled validators to the schemas they came from. */
  sourceHash: string;
}

let loaded: Loaded | undefined;

function escapePointer(seg: string): string {
  return seg.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Records the location of every object/array inside a document, so errors' parentSchema can be traced back. */
function indexLocations(node: unknown, id: string, pointer: string, out: WeakMap<object, SchemaLocation>): void {
  if (node === null || typeof node !== 'object') return;
  if (!out.has(node)) out.set(node, { id, pointer });
  if (Array.isArray(node)) node.forEach((v, i) => indexLocations(v, id, `${pointer}/${i}`, out));
  else for (const [k, v] of Object.entries(node)) indexLocations(v, id, `${pointer}/${escapePointer(k)}`, out);
}

function load(): Loaded {
  if (loaded) return loaded;
  const dir = schemasDir();
  const docs: SchemaDocument[] = [];
  const byFile = new Map<string, SchemaDocument>();
  const byId = new Map<string, SchemaDocument>();
  const hash = createHash('sha256');
  for (const path of listSchemaFiles(dir)) {
    const file = relative(dir, path).split(sep).join('/');
    let schema: JsonSchema;
    try {
      const text = readFileSync(path, 'utf8');
      hash.update(`${file}\0${text}\0`);
      schema = JSON.parse(text) as JsonSchema;
    } catch (err) {
      throw new Error(`mmsa: schema ${path} is not valid JSON: ${(err as Error).message}`);
    }
    const id = typeof schema.$id === 'string' ? schema.$id : `https://mmsa.dev/schemas/${file}`;
    const doc: SchemaDocument = { file, id, schema };
    docs.push(doc);
    byFile.set(file, doc);
    byId.set(id, doc);
  }
  if (!byFile.has(PIPELINE_SCHEMA_FILE) || !byFile.has(DATASET_SCHEMA_FILE)) {
    throw new Error(`mmsa: ${dir} lacks ${PIPELINE_SCHEMA_FILE} or ${DATASET_SCHEMA_FILE}`);
  }
  loaded = { docs, byFile, byId, sourceHash: hash.digest('hex') };
  return loaded;
}

/** Every schema document, sorted by file. */
export function schemaDocuments(): readonly SchemaDocument[] {
  return load().docs;
}

export function schemaDocument(file: string): SchemaDocument | undefined {
  return load().byFile.get(file);
}

export function schemaDocumentById(id: string): SchemaDocument | undefined {
  return load().byId.get(id);
}

/** Location of a schema object handed back by ajv (verbose `parentSchema` / `schema`), if it came from our documents. */
export function schemaLocation(obj: unknown): SchemaLocation | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const l = load();
  if (!l.locations) {
    l.locations = new WeakMap();
    for (const doc of l.docs) indexLocations(doc.schema, doc.id, '', l.locations);
  }
  return l.locations.get(obj);
}

export function schemaSourceHash(): string {
  return load().sourceHash;
}

// ---- ajv ---------------------------------------------------------------------------------------

let ajvInstance: Ajv2020 | undefined;
const subValidators = new Map<string, ValidateFunction>();

/** The options that decide what passes; the precompiled validators (standalone.ts) use the same ones. */
export const AJV_OPTIONS = { discriminator: true, strict: true, strictTypes: false, useDefaults: false } as const;

/** An Ajv 2020-12 instance with every schema document added (none compiled yet). */
export function newAjv(extra: ConstructorParameters<typeof Ajv2020>[0] = {}): Ajv2020 {
  // Required on first use: a check of valid specs runs the precompiled validators and never loads ajv.
  const { Ajv2020: AjvClass } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const ajv = new AjvClass({ ...AJV_OPTIONS, ...extra });
  for (const doc of load().docs) ajv.addSchema(doc.schema);
  return ajv;
}

/** The one shared Ajv instance with every schema added (compiled lazily, on first use). */
export function sharedAjv(): Ajv2020 {
  // verbose: errors carry parentSchema, which is how the diagnostics find allowed keys, descriptions and branches.
  ajvInstance ??= newAjv({ allErrors: true, verbose: true });
  return ajvInstance;
}

export function pipelineSchemaId(): string {
  return load().byFile.get(PIPELINE_SCHEMA_FILE)!.id;
}

export function datasetSchemaId(): string {
  return load().byFile.get(DATASET_SCHEMA_FILE)!.id;
}

function validatorFor(id: string, pointer = ''): ValidateFunction {
  const key = pointer === '' ? id : `${id}#${pointer}`;
  let v = subValidators.get(key);
  if (!v) {
    v = sharedAjv().getSchema(key);
    if (!v) throw new Error(`mmsa: no schema at ${key}`);
    subValidators.set(key, v);
  }
  return v;
}

export function pipelineValidator(): ValidateFunction {
  return validatorFor(pipelineSchemaId());
}

export function datasetValidator(): ValidateFunction {
  return validatorFor(datasetSchemaId());
}

/** A validator for a subschema (e.g. one branch of an anyOf), so its errors can be reported on their own. */
export function subschemaValidator(loc: SchemaLocation): ValidateFunction {
  return validatorFor(loc.id, loc.pointer);
}

/** Follows a `$ref` written in the document `baseId` to the schema object it names. */
export function resolveRef(ref: string, baseId: string): JsonSchema | undefined {
  const url = new URL(ref, baseId);
  const fragment = decodeURIComponent(url.hash.replace(/^#/, ''));
  url.hash = '';
  const doc = load().byId.get(url.href);
  if (!doc) return undefined;
  let cur: unknown = doc.schema;
  if (fragment === '') return cur as JsonSchema;
  if (!fragment.startsWith('/')) return undefined;
  for (const raw of fragment.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur !== null && typeof cur === 'object' ? (cur as JsonSchema) : undefined;
}

// ---- components --------------------------------------------------------------------------------

/** Component types of one kind that have a schema file (sorted). */
export function componentTypes(kind: ComponentKind): string[] {
  const prefix = `components/${KIND_DIRS[kind]}/`;
  return load()
    .docs.filter((d) => d.file.startsWith(prefix))
    .map((d) => d.file.slice(prefix.length).replace(/\.schema\.json$/, ''))
    .sort();
}

/** A component's schema (with its `default`s), or undefined for an unknown type. Shared: do not mutate. */
export function componentSchema(kind: ComponentKind, type: string): DeepReadonly<JsonSchema> | undefined {
  return load().byFile.get(`components/${KIND_DIRS[kind]}/${type}.schema.json`)?.schema;
}

/** The dataset-manifest schema (already self-contained), as a fresh copy for `mmsa schema dataset`. */
export function datasetSchema(): JsonSchema {
  return structuredClone(load().byFile.get(DATASET_SCHEMA_FILE)!.schema);
}

// ---- bundle ------------------------------------------------------------------------------------

function bundleDefName(file: string): string {
  const m = /^components\/(\w+?)s\/(\w+)\.schema\.json$/.exec(file);
  if (m) return `${m[1]}_${m[2]}`;
  return file.replace(/\.schema\.json$/, '').replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * The pipeline schema as one self-contained document: every other document it references is copied under `$defs`
 * and every `$ref` rewritten to point there, so editors need no second file and no network.
 */
export function rootSchema(): JsonSchema {
  const { byFile, byId } = load();
  const root = byFile.get(PIPELINE_SCHEMA_FILE)!;
  const defs: Record<string, unknown> = {};
  const bundledName = new Map<string, string>([[root.id, '']]);
  const queue: SchemaDocument[] = [];

  const nameFor = (docId: string): string => {
    let name = bundledName.get(docId);
    if (name !== undefined) return name;
    const doc = byId.get(docId);
    if (!doc) throw new Error(`mmsa: schema ${docId} is referenced but not loaded`);
    name = bundleDefName(doc.file);
    if (Object.prototype.hasOwnProperty.call(root.schema.$defs ?? {}, name) || [...bundledName.values()].includes(name)) {
      throw new Error(`mmsa: bundle name clash for ${doc.file} ($defs/${name})`);
    }
    bundledName.set(docId, name);
    queue.push(doc);
    return name;
  };

  const rewrite = (node: unknown, baseId: string): unknown => {
    if (Array.isArray(node)) return node.map((v) => rewrite(v, baseId));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const url = new URL(v, baseId);
        const fragment = url.hash;
        url.hash = '';
        const name = nameFor(url.href);
        const local = fragment.replace(/^#/, '');
        out[k] = name === '' ? `#${local}` : `#/$defs/${name}${local}`;
      } else {
        out[k] = rewrite(v, baseId);
      }
    }
    return out;
  };

  const bundle = rewrite(root.schema, root.id) as JsonSchema;
  while (queue.length > 0) {
    const doc = queue.shift()!;
    const copy = rewrite(doc.schema, doc.id) as JsonSchema;
    // Nested $id/$schema would start a new resource inside the bundle and break the rewritten `#/$defs/...` refs.
    delete copy.$id;
    delete copy.$schema;
    defs[bundledName.get(doc.id)!] = copy;
  }
  bundle.$defs = { ...(bundle.$defs as Record<string, unknown> | undefined), ...defs };
  return bundle;
}
