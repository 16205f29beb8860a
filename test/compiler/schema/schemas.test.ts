import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  componentSchema,
  componentTypes,
  datasetSchema,
  packageRoot,
  pipelineValidator,
  rootSchema,
  schemaDocument,
  schemaDocuments,
  type JsonSchema,
} from '../../../src/compiler/schema/schemas.js';
import type { ComponentKind } from '../../../src/components/component.js';
import { SourceFile } from '../../../src/compiler/source/source-file.js';
import { toValue } from '../../../src/compiler/spec/spec-tree.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';
import { VALID_SPEC, mutate } from './spec-fixtures.js';

const KINDS: ComponentKind[] = ['encoder', 'fusion', 'head', 'task'];

function value(text: string): unknown {
  return toValue(parseYaml(new SourceFile('/fake/x.yaml', text)).tree!);
}

/** Valid and invalid specs; the bundle must judge each the same as the shared validator. */
const SAMPLES: [string, string, string][] = [
  ['valid', 'version: 1', 'version: 1'],
  ['version', 'version: 1', 'version: 2'],
  ['unknown encoder type', 'type: lstm\n    hidden: 16', 'type: lstmm\n    hidden: 16'],
  ['unknown encoder key', '    dropout: 0.1\n  vision', '    dropuot: 0.1\n  vision'],
  ['encoder type error', 'hidden: 16\n', 'hidden: "16"\n'],
  ['fusion missing inputs', '  inputs: [text, audio, vision]\n', ''],
  ['head bounds', '    dropout: 0.1\n  T:', '    dropout: 2\n  T:'],
  ['ulgm', '    fusion_head: M\n', ''],
  ['synthetic dataset', '  name: sims\n  file: unaligned_39', '  type: synthetic\n  like: mosi'],
  ['bad synthetic dataset', '  name: sims\n  file: unaligned_39', '  type: synthetic\n  like: mosj'],
  ['param group', "        params: ['*']", '        params: []'],
  ['no fusion', '  type: concat\n  inputs: [text, audio, vision]\n', ''],
];

describe('schemas', () => {
  it('finds the package root from the module location', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'package.json'))).toBe(true);
    expect(existsSync(join(root, 'schemas', 'pipeline.schema.json'))).toBe(true);
  });

  it('loads every schema file with a unique $id', () => {
    const docs = schemaDocuments();
    expect(docs.map((d) => d.file)).toContain('components/encoders/lstm.schema.json');
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
    expect(schemaDocument('dataset.schema.json')?.schema.title).toBe('mmsa dataset manifest');
  });

  it('componentSchema returns the component with its defaults; unknown types give undefined', () => {
    const lstm = componentSchema('encoder', 'lstm') as JsonSchema;
    const props = lstm.properties as Record<string, { default?: unknown }>;
    expect(props.layers?.default).toBe(1);
    expect(props.out?.default).toBe(null);
    expect((componentSchema('task', 'ulgm')?.properties as Record<string, { default?: unknown }>).from_epoch?.default).toBe(2);
    expect(componentSchema('encoder', 'lstmm')).toBeUndefined();
    expect(componentSchema('fusion', 'lstm')).toBeUndefined();
  });

  it('datasetSchema is the manifest schema, detached from the shared copy', () => {
    const d = datasetSchema();
    expect(d.title).toBe('mmsa dataset manifest');
    d.title = 'changed';
    expect(datasetSchema().title).toBe('mmsa dataset manifest');
    const r = rootSchema();
    r.title = 'changed';
    expect(rootSchema().title).toBe('mmsa pipeline spec');
  });

  it('component files and the pipeline schema list the same types (both ways)', () => {
    const defs = (schemaDocument('pipeline.schema.json')!.schema.$defs ?? {}) as Record<string, JsonSchema>;
    for (const kind of KINDS) {
      const def = defs[kind]!;
      const listed = ((def.properties as Record<string, { enum: string[] }>).type?.enum ?? []).slice().sort();
      expect(componentTypes(kind)).toEqual(listed);
      for (const t of listed) expect((componentSchema(kind, t)?.properties as Record<string, { const?: string }>).type?.const).toBe(t);
    }
  });
});

describe('rootSchema bundle', () => {
  const bundle = rootSchema();

  it('is one self-contained document: every $ref is local', () => {
    const refs: string[] = [];
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n !== null && typeof n === 'object') {
        for (const [k, v] of Object.entries(n)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(bundle);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter((r) => !r.startsWith('#/'))).toEqual([]);
    const defs = bundle.$defs as Record<string, JsonSchema>;
    expect(defs.encoder_lstm?.title).toBe("encoder 'lstm'");
    expect(defs.encoder_lstm?.$id).toBeUndefined();
    expect(JSON.parse(JSON.stringify(bundle))).toEqual(bundle);
  });

  it('does not modify the loaded schemas', () => {
    const enc = (schemaDocument('pipeline.schema.json')!.schema.$defs as Record<string, JsonSchema>).encoder!;
    expect((enc.oneOf as { $ref: string }[])[0]!.$ref).toBe('components/encoders/bert.schema.json');
  });

  it('compiles standalone in a fresh Ajv and judges samples like the shared validator', () => {
    const fresh = new Ajv2020({ allErrors: true, discriminator: true, strict: true, strictTypes: false });
    const standalone = fresh.compile(bundle);
    const shared = pipelineValidator();
    const accepted: string[] = [];
    for (const [name, from, to] of SAMPLES) {
      const v = value(mutate(VALID_SPEC, from, to));
      const expected = shared(v);
      if (expected) accepted.push(name);
      expect([name, standalone(v)]).toEqual([name, expected]);
    }
    expect(accepted).toEqual(['valid', 'synthetic dataset', 'no fusion']);
  });
});
