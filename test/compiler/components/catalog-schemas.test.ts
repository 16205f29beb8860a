import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG, componentTypes, getComponent } from '../../../src/components/catalog.js';
import type { ComponentKind } from '../../../src/components/component.js';
import { ENCODER_TYPES, FUSION_TYPES, HEAD_TYPES, TASK_TYPES } from '../../../src/compiler/spec/types.generated.js';

const SCHEMAS = join(dirname(fileURLToPath(import.meta.url)), '../../../schemas');
const KINDS: ComponentKind[] = ['encoder', 'fusion', 'head', 'task'];

function schemaFiles(kind: ComponentKind): string[] {
  return readdirSync(join(SCHEMAS, 'components', `${kind}s`))
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => `components/${kind}s/${f}`);
}

function readSchema(rel: string): { properties?: { type?: { const?: unknown } }; description?: string } {
  return JSON.parse(readFileSync(join(SCHEMAS, rel), 'utf8'));
}

describe('catalog and schemas agree', () => {
  it.each(KINDS)('every %s schema file has exactly one catalog entry with the same type and path', (kind) => {
    const files = schemaFiles(kind);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const type = readSchema(file).properties?.type?.const;
      const entries = CATALOG.filter((c) => c.schema === file);
      expect(entries, file).toHaveLength(1);
      expect(entries[0]!.kind, file).toBe(kind);
      expect(entries[0]!.type, file).toBe(type);
    }
  });

  it('every catalog entry names an existing schema whose type const is the entry type', () => {
    for (const c of CATALOG) {
      expect(c.schema, c.type).toBe(`components/${c.kind}s/${c.type}.schema.json`);
      expect(existsSync(join(SCHEMAS, c.schema)), c.schema).toBe(true);
      const s = readSchema(c.schema);
      expect(s.properties?.type?.const, c.schema).toBe(c.type);
      // The doc line is the schema's description, so `mmsa schema` and the catalog say the same thing.
      expect(c.doc, c.schema).toBe(s.description);
    }
  });

  it('no two entries share a kind and type', () => {
    const keys = CATALOG.map((c) => `${c.kind}:${c.type}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the generated type lists equal the catalog types', () => {
    expect(componentTypes('encoder')).toEqual([...ENCODER_TYPES]);
    expect(componentTypes('fusion')).toEqual([...FUSION_TYPES]);
    expect(componentTypes('head')).toEqual([...HEAD_TYPES]);
    expect(componentTypes('task')).toEqual([...TASK_TYPES]);
  });

  it('getComponent finds entries by kind and type only', () => {
    expect(getComponent('encoder', 'lstm')?.type).toBe('lstm');
    expect(getComponent('fusion', 'lstm')).toBeUndefined();
    expect(getComponent('task', 'ulgm')?.kind).toBe('task');
    expect(getComponent('head', 'nope')).toBeUndefined();
  });

  it('encoders, fusions and heads have a shape rule and parameter names; tasks have head references, targets and hooks', () => {
    for (const c of CATALOG) {
      if (c.kind === 'task') {
        expect(c.headRefs, c.type).toBeTypeOf('function');
        // A task that reads heads says what kind it needs.
        if (c.headRefs!({ type: c.type, head: 'M', fusion_head: 'M', heads: {}, inputs: [] }).length > 0) expect(c.needsHead, c.type).toBeDefined();
        expect(c.taskTargets, c.type).toBeTypeOf('function');
        expect(c.hooks, c.type).toBeTypeOf('function');
      } else {
        expect(c.infer, c.type).toBeTypeOf('function');
        expect(c.paramNames, c.type).toBeTypeOf('function');
        expect(c.accepts?.length, c.type).toBeGreaterThan(0);
      }
      if (c.kind === 'fusion') expect(c.arity, c.type).toBeDefined();
    }
  });
});
