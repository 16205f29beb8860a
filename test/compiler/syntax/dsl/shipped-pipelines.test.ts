import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, compileFileAsync } from '../../../../src/compiler/compile.js';
import { SourceFile } from '../../../../src/compiler/source/source-file.js';
import { parseDsl, parseDslDetailed } from '../../../../src/compiler/syntax/dsl/parse-dsl.js';
import { formatDsl } from '../../../../src/compiler/syntax/dsl/print-dsl.js';
import { parseYaml } from '../../../../src/compiler/syntax/yaml/parse-yaml.js';
import { toValue } from '../../../../src/compiler/spec/spec-tree.js';

const PIPELINES = join(import.meta.dirname, '../../../../pipelines');
const REQUIRED = ['self_mm_sims', 'self_mm_mosi', 'lmf_mosi', 'ef_lstm_mosi', 'mfn_mosi', 'demo_self_mm'];
const twins = readdirSync(PIPELINES).filter((f) => f.endsWith('.mmsa')).map((f) => f.slice(0, -'.mmsa'.length)).sort();

function read(path: string): SourceFile {
  return new SourceFile(path, readFileSync(path, 'utf8'));
}

describe('shipped .mmsa pipelines', () => {
  it('include the headline pipelines and a demo', () => {
    for (const name of REQUIRED) expect(twins, name).toContain(name);
  });

  for (const name of twins) {
    describe(name, () => {
      const dslPath = join(PIPELINES, `${name}.mmsa`);
      const yamlPath = join(PIPELINES, `${name}.yaml`);

      it('parse to the same tree as their YAML twin, before normalization', () => {
        expect(existsSync(yamlPath)).toBe(true);
        const d = parseDsl(read(dslPath));
        const y = parseYaml(read(yamlPath));
        expect(d.diagnostics).toEqual([]);
        expect(y.diagnostics).toEqual([]);
        const dv = toValue(d.tree!);
        const yv = toValue(y.tree!);
        expect(dv).toEqual(yv);
        expect(JSON.stringify(dv)).toBe(JSON.stringify(yv)); // same key order too
      });

      it('are canonically formatted, so `mmsa fmt` leaves them as they are', () => {
        const file = read(dslPath);
        expect(formatDsl(file).text).toBe(file.text);
      });

      it('keep every comment of the YAML twin', () => {
        const yamlComments = readFileSync(yamlPath, 'utf8').split('\n').flatMap((l) => {
          const m = /(?:^|\s)#(.*)$/.exec(l);
          return m ? [m[1]!.trim()] : [];
        }).filter((c) => c !== '');
        const dslComments = parseDslDetailed(read(dslPath)).comments.map((c) => c.text.replace(/^(?:#|\/\/)/, '').trim());
        for (const c of yamlComments) expect(dslComments, c).toContain(c);
      });

      // compileFileAsync loads the DSL front end on demand, as the CLI does (plain compileFile needs it loaded first).
      it('compile to the same spec as their YAML twin (extends crosses formats)', async () => {
        const fromYaml = compileFile(yamlPath, { until: 'check', env: {} });
        const fromDsl = await compileFileAsync(dslPath, { until: 'check', env: {} });
        expect(fromDsl.diagnostics.map((x) => `${x.code} ${x.message}`)).toEqual(fromYaml.diagnostics.map((x) => `${x.code} ${x.message}`));
        expect(fromDsl.spec).toEqual(fromYaml.spec);
      });
    });
  }
});
