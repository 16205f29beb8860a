import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SourceFile } from '../../../src/compiler/source/source-file.js';
import { toValue, type JsonValue } from '../../../src/compiler/spec/spec-tree.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';
import { validateSchema } from '../../../src/compiler/schema/validate-schema.js';
import { VALID_SPEC } from './spec-fixtures.js';
import { mulberry32 as rng } from '../../helpers/prng.js';


const WORDS = ['lstm', 'lstmm', 'type', 'hidden', 'concat', 'sims', 'M', 'x-y', '', 'null', 'a/b', 't~1', '16', 'synthetic', 'path', 'name'];

function randomValue(r: () => number, depth: number): JsonValue {
  const pick = Math.floor(r() * (depth > 2 ? 6 : 8));
  const word = () => WORDS[Math.floor(r() * WORDS.length)]!;
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 20) - 5;
    case 3: return (r() - 0.5) * 10;
    case 4:
    case 5: return word();
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: { [k: string]: JsonValue } = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[word()] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Every path to a map or list inside the value. */
function containerPaths(v: JsonValue, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) {
    out.push(path);
    v.forEach((x, i) => containerPaths(x, [...path, i], out));
  } else if (v !== null && typeof v === 'object') {
    out.push(path);
    for (const [k, x] of Object.entries(v)) containerPaths(x, [...path, k], out);
  }
  return out;
}

function containerAt(v: JsonValue, path: (string | number)[]): JsonValue {
  let cur: JsonValue = v;
  for (const s of path) cur = (cur as Record<string | number, JsonValue>)[s]!;
  return cur;
}

describe('validateSchema fuzz', () => {
  it('random values at random places never throw and every span lies inside the file', () => {
    const base = toValue(parseYaml(new SourceFile('/fake/base.yaml', VALID_SPEC)).tree!);
    let withErrors = 0;
    for (let seed = 1; seed <= 250; seed++) {
      const r = rng(seed);
      const spec = structuredClone(base);
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
        const paths = containerPaths(spec);
        const target = containerAt(spec, paths[Math.floor(r() * paths.length)]!);
        const v = randomValue(r, 0);
        if (Array.isArray(target)) {
          if (target.length > 0 && r() < 0.7) target[Math.floor(r() * target.length)] = v;
          else target.push(v);
        } else if (target !== null && typeof target === 'object') {
          const keys = Object.keys(target);
          const key = keys.length > 0 && r() < 0.7 ? keys[Math.floor(r() * keys.length)]! : WORDS[Math.floor(r() * WORDS.length)]!;
          if (r() < 0.15) delete target[key];
          else target[key] = v;
        }
      }
      const text = stringify(spec);
      const file = new SourceFile(`/fake/fuzz-${seed}.yaml`, text);
      const parsed = parseYaml(file);
      expect(parsed.diagnostics, `seed ${seed}`).toEqual([]);
      const ds = validateSchema(parsed.tree!, 'pipeline');
      if (ds.length > 0) withErrors++;
      for (const d of ds) {
        const where = `seed ${seed}: ${d.code} ${d.message}`;
        expect(d.span.file, where).toBe(file.path);
        expect(d.span.start, where).toBeGreaterThanOrEqual(0);
        expect(d.span.end, where).toBeGreaterThanOrEqual(d.span.start);
        expect(d.span.end, where).toBeLessThanOrEqual(text.length);
        expect(d.message, where).not.toMatch(/\{\w+\}/);
        expect(d.code, where).toMatch(/^MSA20\d\d$/);
      }
      // No two diagnostics for the same place and code.
      const keys = ds.map((d) => `${d.code}@${d.span.start}-${d.span.end}:${d.message}`);
      expect(new Set(keys).size, `seed ${seed}`).toBe(keys.length);
    }
    expect(withErrors).toBeGreaterThan(150);
  });
});
