// Schemas for editors, derived from the pipeline schema: a spec as written (with `extends:` every key is optional and
// components may be partial, since the merge with the preset supplies the rest) and a preset (always partial).
// Phase 2 (schema); `mmsa schema` prints them and the build writes them to dist/schemas/ (scripts/gen-schemas.mjs).

import { datasetSchema, rootSchema, type JsonSchema } from './schemas.js';

export const EDITOR_SCHEMAS = ['pipeline', 'preset', 'dataset', 'resolved'] as const;
export type EditorSchemaName = (typeof EDITOR_SCHEMAS)[number];

const BASE_ID = 'https://mmsa.dev/schemas/editor/';
const PARTIAL_PREFIX = 'partial_';

/**
 * The partial form of a schema, as the extends merge sees a file: maps merge key by key, so no key is required and a
 * component may omit its `type` (it keeps the preset's); lists and scalars replace whole, so list items stay
 * complete. `$ref`s inside a partial schema point at partial definitions, which `need` collects.
 */
function partialOf(node: unknown, need: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((v) => partialOf(v, need));
  if (node === null || typeof node !== 'object') return node;
  const src = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(src)) {
    switch (k) {
      case 'required':
      case 'minProperties':
      // The discriminator needs its tag required; without `type` the branches are told apart by their keys.
      case 'discriminator':
        break;
      case 'oneOf':
      case 'anyOf':
      case 'allOf':
        // A partial mapping may fit several partial branches (`{dropout: 0.1}`), so "exactly one" becomes "any".
        out[k === 'oneOf' ? 'anyOf' : k] = (v as unknown[]).map((b) => partialOf(b, need));
        break;
      case 'properties':
        out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([p, s]) => [p, partialOf(s, need)]));
        break;
      case 'additionalProperties':
        out[k] = typeof v === 'object' ? partialOf(v, need) : v;
        break;
      case '$ref': {
        const m = /^#\/\$defs\/([^/]+)$/.exec(String(v));
        if (!m) throw new Error(`mmsa: editor schema: cannot make a partial of $ref ${String(v)}`);
        need.add(m[1]!);
        out[k] = `#/$defs/${PARTIAL_PREFIX}${m[1]}`;
        break;
      }
      // items, prefixItems, propertyNames, const, enum, if/then/else of a list item...: kept whole.
      default:
        out[k] = v;
    }
  }
  return out;
}

/** The resolved schema's body without the document keywords, so it can sit under $defs. */
function body(s: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, $defs: _d, title: _t, ...rest } = s;
  return rest;
}

/** Pipeline and preset schemas for editors: the resolved schema's definitions plus partial copies of them. */
function buildEditorPipeline(which: 'pipeline' | 'preset'): JsonSchema {
  const resolved = rootSchema();
  const defs = { ...(resolved.$defs as Record<string, JsonSchema>) };
  const need = new Set<string>();
  const partialSpec = partialOf(body(resolved), need) as JsonSchema;
  const out: Record<string, unknown> = {};
  for (const name of need) {
    // A partial definition may reference more definitions: walk until none is missing.
    if (out[`${PARTIAL_PREFIX}${name}`]) continue;
    const def = defs[name];
    if (!def) throw new Error(`mmsa: editor schema: no $defs/${name} in the pipeline schema`);
    out[`${PARTIAL_PREFIX}${name}`] = partialOf(def, need);
  }
  for (const name of Object.keys(out)) if (name in defs) throw new Error(`mmsa: editor schema: $defs/${name} exists already`);
  const allDefs = { ...defs, ...out, spec: body(resolved), [`${PARTIAL_PREFIX}spec`]: partialSpec };
  const head = {
    $schema: resolved.$schema,
    $id: `${BASE_ID}${which}.schema.json`,
  };
  if (which === 'preset') {
    return {
      ...head,
      title: 'mmsa preset (pipelines/presets/*.yaml)',
      description: 'A partial pipeline spec that other specs extend: every key optional, components may be partial.',
      $ref: `#/$defs/${PARTIAL_PREFIX}spec`,
      $defs: allDefs,
    };
  }
  return {
    ...head,
    title: 'mmsa pipeline spec, as written',
    description:
      'A pipeline spec file. Without `extends` it is complete; with `extends` it is merged over its presets, so every key is optional and components may be partial (`mmsa check` validates the merged spec).',
    if: { type: 'object', properties: { extends: true }, required: ['extends'] },
    then: { $ref: `#/$defs/${PARTIAL_PREFIX}spec` },
    else: { $ref: '#/$defs/spec' },
    $defs: allDefs,
  };
}

/**
 * What `mmsa schema --what NAME` prints: `pipeline` (a spec as written, extends-aware), `preset`, `dataset` (a dataset
 * manifest) or `resolved` (the merged spec that `mmsa check` validates, as `mmsa compile --emit spec` prints it).
 */
export function editorSchema(which: EditorSchemaName): JsonSchema {
  if (which === 'dataset') return datasetSchema();
  if (which === 'resolved') return rootSchema();
  return buildEditorPipeline(which);
}
