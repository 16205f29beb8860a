// The editor schemas (`mmsa schema`): every shipped pipeline, preset and dataset manifest passes the schema an
// editor would apply to it, checked with ajv as an editor checks (no mmsa code in the loop), and real mistakes fail.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { compileFile } from '../../../src/compiler/compile.js';
import { editorSchema, EDITOR_SCHEMAS, type EditorSchemaName } from '../../../src/compiler/schema/editor-schema.js';
import { SourceFile } from '../../../src/compiler/source/source-file.js';
import { toValue } from '../../../src/compiler/spec/spec-tree.js';
import { parseDsl } from '../../../src/compiler/syntax/dsl/parse-dsl.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const pipelines = join(repo, 'pipelines');

/** A spec file as an editor sees it: the parsed document, before any merge. */
function read(path: string): unknown {
  const file = new SourceFile(path, readFileSync(path, 'utf8'));
  const r = path.endsWith('.mmsa') ? parseDsl(file) : parseYaml(file);
  expect(r.diagnostics, path).toEqual([]);
  return toValue(r.tree!);
}

const files = (dir: string, re: RegExp) => readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));

type Check = ((v: unknown) => boolean) & { errors?: unknown };
const validators = {} as Record<EditorSchemaName, Check>;

beforeAll(() => {
  // Strict mode: the generated schemas must be clean JSON Schema, not only accepted by a lenient editor. The complete
  // branches keep ajv's `discriminator` keyword (editors that do not know it ignore it, and `oneOf` still decides).
  for (const name of EDITOR_SCHEMAS) validators[name] = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, discriminator: true }).compile(editorSchema(name));
});

function expectValid(name: EditorSchemaName, value: unknown, what: string): void {
  const ok = validators[name](value);
  expect(ok, `${what}: ${JSON.stringify(validators[name].errors)}`).toBe(true);
}

const clone = <T>(v: T): T => structuredClone(v);

describe('editor schemas', () => {
  it('accept every shipped pipeline (YAML and .mmsa), though all of them extend a preset with partial components', () => {
    const specs = files(pipelines, /\.(yaml|mmsa)$/);
    expect(specs.length).toBeGreaterThanOrEqual(30);
    for (const f of specs) expectValid('pipeline', read(f), f);
  });

  it('accept every shipped preset as a preset, and every dataset manifest', () => {
    const presets = files(join(pipelines, 'presets'), /\.yaml$/);
    expect(presets.length).toBeGreaterThanOrEqual(6);
    for (const f of presets) expectValid('preset', read(f), f);
    const manifests = files(join(pipelines, 'datasets'), /\.yaml$/);
    expect(manifests.length).toBe(4);
    for (const f of manifests) expectValid('dataset', read(f), f);
  });

  it('accept the merged spec of every shipped pipeline as resolved (what `mmsa compile --emit spec` prints)', () => {
    for (const f of files(pipelines, /\.yaml$/)) {
      const r = compileFile(f, { until: 'schema', env: {} });
      expect(r.spec, f).toBeDefined();
      expectValid('resolved', r.spec, f);
    }
  });

  it('still catch real mistakes in a file that extends a preset', () => {
    const lmf = read(join(pipelines, 'lmf_mosi.yaml')) as Record<string, any>;
    const bad = (mutate: (s: Record<string, any>) => void) => {
      const s = clone(lmf);
      mutate(s);
      return validators.pipeline(s);
    };
    expect(bad(() => {})).toBe(true);
    expect(bad((s) => (s['trian'] = { batch_size: 32 }))).toBe(false); // unknown top-level key
    expect(bad((s) => (s['encoders'].audio.hiden = 16))).toBe(false); // unknown component key
    expect(bad((s) => (s['encoders'].audio.hidden = 'sixteen'))).toBe(false); // wrong type
    expect(bad((s) => (s['fusion'].type = 'low_rnak'))).toBe(false); // unknown component type
    expect(bad((s) => (s['train'].batch_size = 0))).toBe(false); // below the minimum
    // Lists replace whole, so their items must be complete.
    expect(bad((s) => s['train'].optimizer.groups.push({ name: 'x' }))).toBe(false);
    // A partial component keeps the preset's type: no `type` needed, but its keys must fit some component.
    expect(bad((s) => (s['encoders'].audio = { dropout: 0.1 }))).toBe(true);
    expect(bad((s) => (s['encoders'].audio = { dropout: 0.1, rank: 3 }))).toBe(false);
  });

  it('require a complete spec from a file without extends', () => {
    const lmf = read(join(pipelines, 'lmf_mosi.yaml')) as Record<string, any>;
    const { extends: _e, ...standalone } = lmf;
    expect(validators.pipeline(standalone)).toBe(false); // modalities, heads and tasks come from the preset
    const merged = compileFile(join(pipelines, 'lmf_mosi.yaml'), { until: 'schema', env: {} }).spec!;
    expectValid('pipeline', merged, 'the merged spec written out as one file');
  });

  it('are what `mmsa schema` prints and what the build writes to dist/schemas/', async () => {
    for (const name of EDITOR_SCHEMAS) {
      let out = '';
      const io = { out: (s: string) => (out += s), err: () => {}, cwd: repo, env: {}, isTTY: false };
      expect(await main(['schema', '--what', name], io)).toBe(0);
      expect(JSON.parse(out), name).toEqual(editorSchema(name));
      expect(JSON.parse(readFileSync(join(repo, 'dist/schemas', `${name}.schema.json`), 'utf8')), name).toEqual(editorSchema(name));
    }
    let dflt = '';
    await main(['schema'], { out: (s: string) => (dflt += s), err: () => {}, cwd: repo, env: {}, isTTY: false });
    expect(JSON.parse(dflt)).toEqual(editorSchema('pipeline'));
  });
});
