// Seeded mutation fuzzing of the compiler front end: the shipped pipelines' normalized specs are mutated (keys
// deleted or misspelt, values of the wrong type, references moved, component types swapped, garbage nested), written
// as YAML and compiled. compileFile must never throw and every diagnostic must be well-formed. Phases 0-5.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/compile.js';
import { MESSAGES } from '../../src/core/messages.js';
import { mulberry32 as rng } from '../helpers/prng.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'mmsa-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];


const COMPONENT_TYPES: Record<string, string[]> = {
  encoders: ['bert', 'gru', 'lstm', 'mlp', 'precomputed', 'subnet', 'text_lstm', 'transformer'],
  fusion: ['concat', 'early', 'late', 'low_rank', 'tensor', 'mult'],
  heads: ['classification', 'regression', 'ranking'],
  tasks: ['cross_entropy', 'l1', 'mse', 'ulgm', 'huber'],
};

const seeds: { name: string; spec: Json }[] = readdirSync(join(repoRoot, 'pipelines'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ name: f, spec: JSON.parse(JSON.stringify(compileFile(join(repoRoot, 'pipelines', f), { env: {} }).spec)) as Json }));

function isMap(v: Json | undefined): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function allPaths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...allPaths(x, [...prefix, i])));
  else if (isMap(v)) for (const [k, x] of Object.entries(v)) out.push(...allPaths(x, [...prefix, k]));
  return out;
}

function get(v: Json, path: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const s of path) {
    if (Array.isArray(cur) && typeof s === 'number') cur = cur[s];
    else if (isMap(cur) && typeof s === 'string') cur = cur[s];
    else return undefined;
  }
  return cur;
}

function set(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  else if (isMap(parent) && typeof last === 'string') parent[last] = value;
  return root;
}

function typeOf(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function randomValue(r: () => number, depth = 0): Json {
  const pick = Math.floor(r() * (depth > 2 ? 5 : 7));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return [0, -1, 1, 3, 0.5, 1e9, -1e-9, 768][Math.floor(r() * 8)]!;
    case 3: return ['', 'text', 'fusion', 'M', '*', 'mosi', '${X}', '$$', 'a:b', '../x.yaml', 'encoders.text'][Math.floor(r() * 11)]!;
    case 4: return 'x'.repeat(Math.floor(r() * 5));
    case 5: return [randomValue(r, depth + 1), randomValue(r, depth + 1)];
    default: return { [['type', 'inputs', 'hidden', 'k'][Math.floor(r() * 4)]!]: randomValue(r, depth + 1) };
  }
}

function typo(key: string, r: () => number): string {
  if (key.length < 2) return `${key}_`;
  const i = Math.floor(r() * (key.length - 1));
  const op = Math.floor(r() * 3);
  if (op === 0) return key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2); // swap
  if (op === 1) return key.slice(0, i) + key.slice(i + 1); // drop
  return key.slice(0, i) + key[i] + key.slice(i); // double
}

/** Names a reference could point at (the spec's own node names, plus some that exist nowhere). */
function names(spec: Json): string[] {
  const out = ['fusion', 'nowhere', 'M', 'text'];
  if (isMap(spec)) for (const s of ['modalities', 'encoders', 'heads', 'tasks']) if (isMap(spec[s])) out.push(...Object.keys(spec[s] as object));
  return out;
}

const REFERENCE = /^(heads\.\w+\.input|tasks\.\w+\.(head|fusion_head|target)|tasks\.\w+\.heads\.\w+|fusion\.inputs\.\d+|encoders\.\w+\.modality|eval\.head|train\.optimizer\.groups\.\d+\.params\.\d+)$/;

function mutate(spec: Json, r: () => number): { spec: Json; what: string } {
  let s = JSON.parse(JSON.stringify(spec)) as Json;
  const kind = Math.floor(r() * 7);
  const paths = allPaths(s).filter((p) => p.length > 0);
  const path = paths[Math.floor(r() * paths.length)]!;
  const parentPath = path.slice(0, -1);
  const parent = get(s, parentPath);
  const last = path[path.length - 1]!;
  switch (kind) {
    case 0: {
      if (isMap(parent) && typeof last === 'string') delete parent[last];
      else if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      return { spec: s, what: `delete ${path.join('.')}` };
    }
    case 1: {
      const old = get(s, path)!;
      let v = randomValue(r);
      for (let i = 0; i < 5 && typeOf(v) === typeOf(old); i++) v = randomValue(r);
      return { spec: set(s, path, v), what: `replace ${path.join('.')} with ${JSON.stringify(v)}` };
    }
    case 2: {
      if (!isMap(parent) || typeof last !== 'string') return mutate(spec, r);
      const renamed = typo(last, r);
      const entries = Object.entries(parent).map(([k, v]) => [k === last ? renamed : k, v] as const);
      for (const k of Object.keys(parent)) delete parent[k];
      for (const [k, v] of entries) parent[k] = v;
      return { spec: s, what: `rename ${path.join('.')} to ${renamed}` };
    }
    case 3: {
      const refs = allPaths(s).filter((p) => REFERENCE.test(p.join('.')) && typeof get(s, p) === 'string');
      if (refs.length === 0) return mutate(spec, r);
      const ref = refs[Math.floor(r() * refs.length)]!;
      const ns = names(s);
      const to = ns[Math.floor(r() * ns.length)]!;
      return { spec: set(s, ref, to), what: `point ${ref.join('.')} at ${to}` };
    }
    case 4: {
      const lists = allPaths(s).filter((p) => Array.isArray(get(s, p)) && (get(s, p) as Json[]).length > 0);
      if (lists.length === 0) return mutate(spec, r);
      const lp = lists[Math.floor(r() * lists.length)]!;
      const list = get(s, lp) as Json[];
      const i = Math.floor(r() * list.length);
      list.splice(i, 0, JSON.parse(JSON.stringify(list[i])) as Json);
      return { spec: s, what: `duplicate ${lp.join('.')}[${i}]` };
    }
    case 5: {
      const comps = allPaths(s).filter((p) => {
        const v = get(s, p);
        return isMap(v) && typeof v['type'] === 'string' && ((p.length === 2 && String(p[0]) in COMPONENT_TYPES) || (p.length === 1 && p[0] === 'fusion'));
      });
      if (comps.length === 0) return mutate(spec, r);
      const cp = comps[Math.floor(r() * comps.length)]!;
      const types = COMPONENT_TYPES[String(cp[0])]!;
      const t = types[Math.floor(r() * types.length)]!;
      (get(s, cp) as { [k: string]: Json })['type'] = t;
      return { spec: s, what: `type of ${cp.join('.')} -> ${t}` };
    }
    default: {
      let garbage: Json = randomValue(r);
      for (let d = 0; d < 2 + Math.floor(r() * 6); d++) garbage = r() < 0.5 ? [garbage] : { [typo('garbage', r)]: garbage };
      s = set(s, path, garbage);
      return { spec: s, what: `nest garbage at ${path.join('.')}` };
    }
  }
}

const CASES = 300;

describe('check fuzz', () => {
  it('has seeds from every shipped pipeline', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(25);
    for (const s of seeds) expect(isMap(s.spec), s.name).toBe(true);
  });

  it(`never throws and reports well-formed diagnostics on ${CASES} mutated specs`, () => {
    const counts = new Map<string, number>();
    let clean = 0;
    for (let n = 0; n < CASES; n++) {
      const r = rng(1000 + n);
      const seed = seeds[Math.floor(r() * seeds.length)]!;
      let spec = seed.spec;
      const steps: string[] = [];
      const k = 1 + Math.floor(r() * 3);
      for (let i = 0; i < k; i++) {
        const m = mutate(spec, r);
        spec = m.spec;
        steps.push(m.what);
      }
      let text = stringify(spec);
      // Now and then the text itself is cut off, as an editor's half-saved file.
      if (r() < 0.08) text = text.slice(0, Math.floor(r() * text.length));
      const file = join(tmp, `case-${n}.yaml`);
      writeFileSync(file, text);
      const label = `case ${n} (seed ${seed.name}: ${steps.join('; ')})`;
      let result: ReturnType<typeof compileFile>;
      try {
        result = compileFile(file, { env: {} });
      } catch (err) {
        throw new Error(`${label} threw: ${err instanceof Error ? err.stack : String(err)}`);
      }
      if (result.diagnostics.length === 0) clean++;
      for (const d of result.diagnostics) {
        counts.set(d.code, (counts.get(d.code) ?? 0) + 1);
        expect(MESSAGES, label).toHaveProperty(d.code);
        expect(d.message.length, label).toBeGreaterThan(0);
        for (const span of [d.span, ...(d.related ?? []).map((x) => x.span)]) {
          const src = result.host.get(span.file);
          expect(src, `${label}: ${d.code} points into ${span.file}, which was never loaded`).toBeDefined();
          expect(0 <= span.start && span.start <= span.end && span.end <= src!.text.length, `${label}: ${d.code} span ${span.start}-${span.end} of ${src!.text.length}`).toBe(true);
        }
      }
    }
    // The mutations must actually break things most of the time, across many codes.
    expect(clean).toBeLessThan(CASES / 2);
    expect(counts.size).toBeGreaterThanOrEqual(15);
  });
});
