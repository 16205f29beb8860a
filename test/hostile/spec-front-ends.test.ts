// Hostile and broken spec files for both front ends (YAML and .mmsa), built here and checked by the built compiler in
// a capped child: alias bombs, extends fan-out and cycles, deep nesting, floods of problems, huge files, paths where
// names belong, invalid UTF-8, FIFOs, terminal escapes. Each gives located diagnostics in bounded time and memory.
// Phases 0-3.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DIAGNOSTICS_PER_FILE } from '../../src/compiler/diagnostics/diagnostic.js';
import { MAX_SOURCE_BYTES, SourceFile } from '../../src/compiler/source/source-file.js';
import { MAX_EXTENDS_DEPTH } from '../../src/compiler/spec/extends.js';
import { parseDsl } from '../../src/compiler/syntax/dsl/parse-dsl.js';
import { MAX_NESTING } from '../../src/compiler/syntax/limits.js';
import { MAX_ALIAS_EXPANSIONS, parseYaml } from '../../src/compiler/syntax/yaml/parse-yaml.js';
import { runCapped, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function write(rel: string, data: string | Uint8Array): string {
  const p = join(tmp.dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  return p;
}

interface Checked {
  diagnostics: { code: string; message: string; file: string; line: number; column: number; severity: string }[];
  text: string;
  files: string[];
  loaded: string[];
}

/** `mmsa check` in a capped child: the JSON diagnostics, the formatted text, the files of the spec and every file read. */
function check(file: string, opts: { datasetsDir?: string; timeoutMs?: number } = {}) {
  return runCapped<Checked>(
    `const { compileFileAsync } = await mod('compiler/compile.js');
     const { toJsonDiagnostics, formatDiagnostics } = await mod('compiler/diagnostics/format.js');
     const r = await compileFileAsync(input.file, { env: {}, ...(input.datasetsDir ? { datasetsDir: input.datasetsDir } : {}) });
     const loaded = r.host.paths();
     return { diagnostics: toJsonDiagnostics(r.diagnostics, r.host), text: formatDiagnostics(r.diagnostics, r.host), files: r.files, loaded };`,
    { file, datasetsDir: opts.datasetsDir },
    { timeoutMs: opts.timeoutMs ?? 60_000 },
  );
}

const codes = (c: Checked) => c.diagnostics.map((d) => d.code);

/** What a spec extending lf_dnn needs besides its dataset (so only the dataset can be wrong). */
const ENCODERS = 'encoders:\n  audio: {type: subnet, hidden: 16}\n  vision: {type: subnet, hidden: 32}\n  text: {type: text_lstm, hidden: 64, out: 32}\n';

function yamlCodes(text: string): string[] {
  return parseYaml(new SourceFile('/x.yaml', text)).diagnostics.map((d) => d.code);
}

function dslCodes(text: string): string[] {
  return parseDsl(new SourceFile('/x.mmsa', text)).diagnostics.map((d) => d.code);
}

describe('YAML aliases', () => {
  function laughs(levels: number, width: number): string {
    const lines = ['version: 1', `a0: &a0 [${Array(width).fill('lol').join(', ')}]`];
    for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
    lines.push(`dataset: *a${levels}`);
    return `${lines.join('\n')}\n`;
  }

  for (const [levels, width] of [[8, 9], [10, 10]] as const) {
    const text = laughs(levels, width);
    it(`a ${text.length}-byte billion-laughs file is refused at the alias in bounded time and memory`, () => {
      const r = check(write(`laughs-${levels}.yaml`, text));
      expect(r.crash).toBeUndefined();
      expect(codes(r.value!)).toEqual(['MSA1007']);
      // At an alias written in the file, on one of the anchor lines.
      const d = r.value!.diagnostics[0]!;
      expect(d.message).toMatch(/^alias \*a\d+ expands too much/);
      expect(d.line).toBeGreaterThanOrEqual(3);
      expect(d.line).toBeLessThanOrEqual(levels + 3);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.peakRssMiB).toBeLessThan(300);
    });
  }

  it(`${MAX_ALIAS_EXPANSIONS} alias expansions are read; one more is refused`, () => {
    const spec = (n: number) => `a: &a 1\nlist: [${Array(n).fill('*a').join(', ')}]\n`;
    expect(yamlCodes(spec(MAX_ALIAS_EXPANSIONS))).toEqual([]);
    expect(yamlCodes(spec(MAX_ALIAS_EXPANSIONS + 1))).toEqual(['MSA1007']);
  });
});

describe('extends', () => {
  it('9 files that each extend the next ten times load once each (were 10^8 loads)', () => {
    for (let i = 1; i <= 9; i++) {
      const next = i < 9 ? `extends: [${Array(10).fill(`./fan-${i + 1}.yaml`).join(', ')}]\n` : 'extends: lf_dnn\n';
      write(`fan/fan-${i}.yaml`, `${i === 1 ? 'version: 1\ndataset: mosi\n' : ''}${next}train: {max_epochs: ${i}}\n`);
    }
    const r = check(join(tmp.dir, 'fan/fan-1.yaml'), { timeoutMs: 60_000 });
    expect(r.crash).toBeUndefined();
    expect(r.value!.files.filter((f) => f.includes('fan-'))).toHaveLength(9);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a cycle is reported once, with its chain', () => {
    write('cycle/a.yaml', 'version: 1\ndataset: mosi\nextends: ./b.yaml\n');
    write('cycle/b.yaml', 'extends: ./c.yaml\n');
    write('cycle/c.yaml', 'extends: ./a.yaml\n');
    const r = check(join(tmp.dir, 'cycle/a.yaml'));
    expect(r.value!.diagnostics.filter((d) => d.code === 'MSA2102').map((d) => d.message)).toEqual(['circular extends: a.yaml -> b.yaml -> c.yaml -> a.yaml']);
  });

  it(`a chain of ${MAX_EXTENDS_DEPTH} files is read; ${MAX_EXTENDS_DEPTH + 1} are refused with the chain`, () => {
    // The chain ends in the lf_dnn preset, which extends mmsa_defaults: n files of ours make n + 2.
    const chain = (name: string, n: number) => {
      for (let i = 1; i <= n; i++) {
        const head = i === 1 ? 'version: 1\ndataset: mosi\n' : '';
        write(`${name}/c${i}.yaml`, `${head}extends: ${i < n ? `./c${i + 1}.yaml` : 'lf_dnn'}\n`);
      }
      return check(join(tmp.dir, `${name}/c1.yaml`)).value!;
    };
    expect(codes(chain('chain-ok', MAX_EXTENDS_DEPTH - 2))).not.toContain('MSA2109');
    const over = chain('chain-over', MAX_EXTENDS_DEPTH - 1);
    expect(codes(over)).toContain('MSA2109');
    expect(over.diagnostics.find((d) => d.code === 'MSA2109')!.message).toContain('c1.yaml -> c2.yaml');
  });
});

describe('.mmsa front end', () => {
  // The pipeline block is the first level: n brackets inside it nest n + 1 deep.
  const nested = (brackets: number) => `pipeline p {\n  tags ${'['.repeat(brackets)}${']'.repeat(brackets)}\n}\n`;

  it('nesting 500 deep is a located MSA1008, not a stack overflow (exit 70)', () => {
    const r = check(write('deep.mmsa', nested(500)));
    expect(r.crash).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.value!.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1008', line: 2, column: 8 + MAX_NESTING - 1 })]);
  });

  it(`nesting ${MAX_NESTING} deep parses; ${MAX_NESTING + 1} is refused`, () => {
    expect(dslCodes(nested(MAX_NESTING - 1))).toEqual([]);
    expect(dslCodes(nested(MAX_NESTING))).toEqual(['MSA1008']);
  });

  it('200,000 problems are shown as the first 100 and one "and N more"', () => {
    const r = check(write('flood.mmsa', `pipeline p {\n${'@ '.repeat(200_000)}\n}\n`), { timeoutMs: 120_000 });
    expect(r.crash).toBeUndefined();
    expect(r.error).toBeUndefined();
    const ds = r.value!.diagnostics;
    expect(ds).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(ds.at(-1)).toMatchObject({ code: 'MSA1009', message: '199900 more problems in this file are not shown (199900 errors, 0 warnings)' });
    expect(r.value!.text).toContain('200000 errors, 0 warnings');
    expect(r.value!.text.length).toBeLessThan(200_000);
  });

  it(`${MAX_DIAGNOSTICS_PER_FILE} problems are all shown; ${MAX_DIAGNOSTICS_PER_FILE + 1} give 100 and a summary`, () => {
    const flood = (n: number) => `pipeline p {\n${'@ '.repeat(n)}\n}\n`;
    expect(dslCodes(flood(MAX_DIAGNOSTICS_PER_FILE))).toEqual(Array(MAX_DIAGNOSTICS_PER_FILE).fill('MSA1012'));
    expect(dslCodes(flood(MAX_DIAGNOSTICS_PER_FILE + 1))).toEqual([...Array(MAX_DIAGNOSTICS_PER_FILE).fill('MSA1012'), 'MSA1009']);
  });

  it('a 10 MB string literal is a located MSA1041 at its line; a 600 KB one is lexed without a stack overflow', () => {
    const r = check(write('huge-literal.mmsa', `pipeline p {\n  description "${'x'.repeat(10_000_000)}"\n}\n`));
    expect(r.crash).toBeUndefined();
    expect(r.value!.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1041', line: 2, column: 1 })]);
    expect(r.value!.text.length).toBeLessThan(2000);
    expect(dslCodes(`pipeline p {\n  description "${'x'.repeat(600_000)}"\n}\n`)).toEqual([]);
  });
});

describe('file size', () => {
  it(`a ${MAX_SOURCE_BYTES}-byte spec is parsed; one byte more is refused with MSA1041`, () => {
    const body = (n: number) => {
      const head = 'version: 1\ndataset: mosi\ndescription: ';
      return `${head}${'y'.repeat(n - head.length - 1)}\n`;
    };
    const ok = check(write('size-ok.yaml', body(MAX_SOURCE_BYTES))).value!;
    expect(codes(ok)).not.toContain('MSA1041');
    const over = check(write('size-over.yaml', body(MAX_SOURCE_BYTES + 1))).value!;
    expect(codes(over)).toEqual(['MSA1041']);
    expect(over.diagnostics[0]).toMatchObject({ line: 3 });
  });
});

describe('names are names, paths are paths', () => {
  it("dataset.manifest: ../../../../etc/passwd is refused without reading (or echoing) the file", () => {
    const r = check(write('names/passwd.yaml', `version: 1\nextends: lf_dnn\ndataset: {path: ./x.pkl, manifest: ../../../../../../../../etc/passwd}\n${ENCODERS}`)).value!;
    expect(codes(r)).toEqual(['MSA2111']);
    expect(r.loaded).not.toContain('/etc/passwd');
    expect(r.text).not.toMatch(/root:/);
  });

  it('dataset.name ../../x/evil does not load a manifest outside the datasets folder', () => {
    const datasetsDir = join(tmp.dir, 'names/pipelines/datasets');
    write('names/pipelines/datasets/mosi-like.dataset.yaml', 'name: placeholder\n');
    const planted = write('names/x/evil.dataset.yaml', 'name: evil\ntask: regression\nmetrics: mosi\ndefault_file: f\nfiles: {f: {path: f.pkl, aligned: false, splits: {train: 1, valid: 1, test: 1}, labels: {M: m}, features: {}}}\n');
    const r = check(write('names/spec.yaml', `version: 1\nextends: lf_dnn\ndataset: {name: ../../x/evil}\n${ENCODERS}`), { datasetsDir }).value!;
    expect(codes(r)).toEqual(['MSA2110']);
    expect(r.loaded).not.toContain(planted);
  });

  it('a FIFO named like a manifest is refused as not a regular file, without blocking', () => {
    const fifo = join(tmp.dir, 'names/pipe.dataset.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = check(write('names/fifo.yaml', `version: 1\nextends: lf_dnn\ndataset: {path: ./x.pkl, manifest: ./pipe.dataset.yaml}\n${ENCODERS}`), { timeoutMs: 30_000 });
    expect(r.crash).toBeUndefined();
    expect(r.value!.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1004', message: `cannot read '${fifo}': it is not a regular file`, line: 3 })]);
  });

  it('terminal escapes in a spec never reach the terminal raw', () => {
    const r = check(write('names/escape.yaml', `version: 1\nextends: lf_dnn\ndataset: "\\e[2J\\e[31mmosi"\n${ENCODERS}`)).value!;
    expect(codes(r)).toEqual(['MSA2110']);
    expect(r.text).not.toContain('\u001b');
    expect(r.text).toContain('\\x1b[2J');
  });
});

describe('invalid UTF-8', () => {
  const latin1 = (s: string) => Buffer.from(s, 'latin1');

  it('is reported with its byte offset in YAML, .mmsa and a dataset manifest', () => {
    const y = check(write('utf8/spec.yaml', latin1('version: 1\ndataset: mosi\ndescription: "d\xe9j\xe0 vu"\n'))).value!;
    expect(y.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1040', message: 'invalid UTF-8 at byte offset 40 (byte 0xe9)', line: 3, column: 16 })]);
    const d = check(write('utf8/spec.mmsa', latin1('pipeline p {\n  description "na\xefve"\n}\n'))).value!;
    expect(d.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1040', message: 'invalid UTF-8 at byte offset 30 (byte 0xef)' })]);
    write('utf8/m.dataset.yaml', latin1('name: caf\xe9\n'));
    const m = check(write('utf8/custom.yaml', `version: 1\nextends: lf_dnn\ndataset: {path: ./x.pkl, manifest: ./m.dataset.yaml}\n${ENCODERS}`)).value!;
    expect(m.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1040', file: join(tmp.dir, 'utf8/m.dataset.yaml'), line: 1, column: 10 })]);
  });

  it('a truncated multi-byte character at the end of the file is located at its first byte', () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\n# \u20ac'), Buffer.from([0xe2, 0x82])]);
    const y = check(write('utf8/cut.yaml', bytes)).value!;
    expect(y.diagnostics).toEqual([expect.objectContaining({ code: 'MSA1040', message: `invalid UTF-8 at byte offset ${bytes.length - 2} (byte 0xe2)` })]);
  });
});
