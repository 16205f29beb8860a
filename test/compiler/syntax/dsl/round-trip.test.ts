import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../../../../src/compiler/source/source-file.js';
import { parseDsl } from '../../../../src/compiler/syntax/dsl/parse-dsl.js';
import { convertDslToYaml, convertYamlToDsl, specToDsl, specToYaml } from '../../../../src/compiler/syntax/dsl/print-dsl.js';
import { parseYaml } from '../../../../src/compiler/syntax/yaml/parse-yaml.js';
import { toValue, type JsonValue } from '../../../../src/compiler/spec/spec-tree.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce from the case number. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const WORDS = [
  'text', 'audio', 'vision', 'M', 'T', 'fusion', 'encoders.text', 'heads.*', 'bert-base-chinese', 'LayerNorm.weight',
  'pipeline', 'modality', 'encoder', 'head', 'task', 'on', 'type', 'input', 'inputs', 'name', 'true', 'false', 'null',
  'True', 'NULL', 'yes', 'no', '1', '1.0', '5e-5', '-3', '.inf', '.nan', '', ' ', 'a b', '*', 'fusion:text_factor',
  'a"quote', 'back\\slash', 'line\nbreak', 'tab\there', '\u00e9t\u00e9', '\u{1F600}', '#hash', '// slash', '{', ']', ':', ',',
  'a-', '-a', '_', 'x.y.z', 'a..b', '1a', 'e5', 'inf', 'nan', '0x1F', '${ENV:-x}', '\u0001ctl',
];
const KEYS = [
  'version', 'name', 'extends', 'dataset', 'modalities', 'encoders', 'fusion', 'heads', 'tasks', 'train', 'eval', 'seeds',
  'type', 'input', 'inputs', 'hidden', 'dropout', 'lr', 'params', 'groups', 'H', 'head', 'task', 'modality', 'encoder', 'on',
  'pipeline', 'true', 'null', '1', '0', 'a b', '', 'x.y', 'a-b', '"q"', '#', 'key:colon',
];
const NUMBERS = [0, 1, -1, 32, 1111, 0.1, 0.5, -0.25, 5e-5, 1e-8, 1e21, 1.5e300, 123456789, -0, 2 ** 53, Infinity, -Infinity, NaN];

function genScalar(r: ReturnType<typeof rng>): JsonValue {
  switch (r.int(5)) {
    case 0: return r.pick(NUMBERS);
    case 1: return r.int(1000) - 500 + (r.int(2) ? r.int(1000) / 1000 : 0);
    case 2: return r.pick([true, false, null]);
    default: return r.pick(WORDS);
  }
}

function genValue(r: ReturnType<typeof rng>, depth: number): JsonValue {
  const k = depth > 3 ? 0 : r.int(6);
  if (k <= 2) return genScalar(r);
  if (k === 3) return Array.from({ length: r.int(4) }, () => genValue(r, depth + 1));
  return genMap(r, depth + 1);
}

function genMap(r: ReturnType<typeof rng>, depth: number): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  const n = r.int(5);
  for (let i = 0; i < n; i++) out[r.pick(KEYS)] = genValue(r, depth);
  return out;
}

/** Spec-shaped values: sections the sugar applies to (and near misses where it must not). */
function genSpec(r: ReturnType<typeof rng>): JsonValue {
  const spec: { [k: string]: JsonValue } = {};
  const order = ['name', 'version', 'extends', 'dataset', 'modalities', 'encoders', 'fusion', 'heads', 'tasks', 'train', 'eval', 'seeds', 'extra'];
  for (const key of order) {
    if (r.int(4) === 0) continue;
    const component = (withInput: boolean) => {
      const m: { [k: string]: JsonValue } = {};
      if (r.int(4) !== 0) m['type'] = r.int(6) === 0 ? genScalar(r) : r.pick(WORDS);
      if (withInput && r.int(3) !== 0) m['input'] = r.int(6) === 0 ? genScalar(r) : r.pick(WORDS);
      return { ...m, ...genMap(r, 2) };
    };
    const section = (withInput: boolean): JsonValue => {
      if (r.int(8) === 0) return genValue(r, 2);
      const m: { [k: string]: JsonValue } = {};
      const n = r.int(4);
      for (let i = 0; i < n; i++) m[r.pick(WORDS)] = r.int(8) === 0 ? genValue(r, 3) : component(withInput);
      return m;
    };
    switch (key) {
      case 'name': spec[key] = r.int(5) === 0 ? genScalar(r) : r.pick(WORDS); break;
      case 'modalities': spec[key] = section(false); break;
      case 'encoders': case 'tasks': spec[key] = section(false); break;
      case 'heads': spec[key] = section(true); break;
      case 'fusion':
        spec[key] = r.int(5) === 0
          ? genValue(r, 2)
          : { type: r.pick(WORDS), inputs: Array.from({ length: r.int(4) }, () => (r.int(8) === 0 ? genScalar(r) : r.pick(WORDS))), ...genMap(r, 2) };
        break;
      case 'extra': Object.assign(spec, genMap(r, 1)); break;
      default: spec[key] = genValue(r, 1);
    }
  }
  return spec;
}

function dslBack(text: string): JsonValue {
  const r = parseDsl(new SourceFile('gen.mmsa', text));
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`), text).toEqual([]);
  return toValue(r.tree!);
}

/** Deep equality that also checks key order (toEqual does not). */
function expectSame(actual: JsonValue, expected: JsonValue, context: string): void {
  expect(actual, context).toEqual(expected);
  const keys = (v: JsonValue): unknown => (Array.isArray(v) ? v.map(keys) : v !== null && typeof v === 'object' ? Object.entries(v).map(([k, x]) => [k, keys(x)]) : null);
  expect(keys(actual), context).toEqual(keys(expected));
}

const ROOT = join(import.meta.dirname, '../../../..');

function yamlPipelines(): string[] {
  const dir = join(ROOT, 'pipelines');
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.ya?ml$/.test(e.name)) out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

describe('spec -> DSL -> spec is the identity', () => {
  it('for 400 generated spec-like values', () => {
    for (let i = 0; i < 400; i++) {
      const r = rng(1000 + i);
      const v = i % 5 === 4 ? genValue(r, 0) : genSpec(r);
      const text = specToDsl(v);
      expectSame(dslBack(text), v, `case ${i}:\n${text}`);
    }
  });

  it('for generated values through YAML as well (specToYaml / parseYaml)', () => {
    for (let i = 0; i < 150; i++) {
      const v = genSpec(rng(5000 + i));
      const y = specToYaml(v);
      const back = parseYaml(new SourceFile('gen.yaml', y));
      expect(back.diagnostics, y).toEqual([]);
      expectSame(toValue(back.tree!), v, `case ${i}:\n${y}`);
    }
  });

  it('for edge values at the top level', () => {
    for (const v of [null, true, 0, -0, 'pipeline', 'modality', '', [], {}, [{}], { name: 'x' }, { name: 1 }, { 'a b': { '': [] } }] as JsonValue[]) {
      expectSame(dslBack(specToDsl(v)), v, JSON.stringify(v));
    }
  });

  it('for every shipped YAML pipeline, preset and dataset manifest', () => {
    const files = yamlPipelines();
    expect(files.length).toBeGreaterThan(0);
    for (const path of files) {
      const file = new SourceFile(path, readFileSync(path, 'utf8'));
      const y = parseYaml(file);
      expect(y.diagnostics, path).toEqual([]);
      const v = toValue(y.tree!);
      expectSame(dslBack(specToDsl(v)), v, path);
      // convert keeps comments and number spellings, and reads back to the same value both ways
      const converted = convertYamlToDsl(file);
      expectSame(dslBack(converted.text!), v, `${path} (convert)`);
      const yamlAgain = convertDslToYaml(new SourceFile(`${path}.mmsa`, converted.text!));
      const y2 = parseYaml(new SourceFile(`${path}.again.yaml`, yamlAgain.text!));
      expectSame(toValue(y2.tree!), v, `${path} (convert back)`);
    }
  });
});
