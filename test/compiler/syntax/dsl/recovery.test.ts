import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostics } from '../../../../src/compiler/diagnostics/format.js';
import { SourceFile, SourceHost } from '../../../../src/compiler/source/source-file.js';
import { parseDslDetailed } from '../../../../src/compiler/syntax/dsl/parse-dsl.js';
import { toValue } from '../../../../src/compiler/spec/spec-tree.js';
import { expectBaseline } from '../../../helpers/baseline.js';

// Baselines: test/baselines/dsl/<case>.txt; UPDATE_BASELINES=1 rewrites them.
const BASELINES = join(dirname(fileURLToPath(import.meta.url)), '../../../baselines/dsl');

const BASE = `pipeline demo {
  version 1
  dataset sims
  modality text { feature text }
  encoder text: lstm { hidden 16 }
  head M: regression on text { hidden [8] }
  task main: l1 { head M }
  train { batch_size 32  max_epochs 3 }
  seeds [1111, 1112]
}
`;

/** Each case is one typical typo in BASE (or a small file): exactly `count` diagnostics with these codes. */
const CASES: { name: string; text: string; codes: string[] }[] = [
  { name: 'missing-close-brace', text: BASE.replace('modality text { feature text }', 'modality text { feature text'), codes: ['MSA1010'] },
  { name: 'missing-close-brace-at-eof', text: BASE.replace(/}\n$/, ''), codes: ['MSA1013'] },
  { name: 'colon-after-key', text: BASE.replace('batch_size 32', 'batch_size: 32'), codes: ['MSA1020'] },
  { name: 'colon-in-list', text: BASE.replace('[1111, 1112]', '[1111: 1112]'), codes: ['MSA1020'] },
  { name: 'unknown-character', text: BASE.replace('version 1', 'version 1 @'), codes: ['MSA1012'] },
  { name: 'single-quoted-string', text: BASE.replace('dataset sims', "dataset 'sims'"), codes: ['MSA1023'] },
  { name: 'unterminated-string', text: BASE.replace('dataset sims', 'dataset "sims'), codes: ['MSA1011'] },
  { name: 'missing-value', text: BASE.replace('batch_size 32', 'batch_size'), codes: ['MSA1010'] },
  { name: 'missing-value-before-key', text: BASE.replace('dataset sims', 'dataset'), codes: ['MSA1010'] },
  { name: 'invalid-number', text: BASE.replace('version 1', 'version 1.2.3'), codes: ['MSA1014'] },
  { name: 'invalid-escape', text: BASE.replace('dataset sims', 'dataset "si\\qms"'), codes: ['MSA1021'] },
  { name: 'extra-close-brace', text: BASE.replace('task main: l1 { head M }', 'task main: l1 { head M }}'), codes: ['MSA1010'] },
  { name: 'missing-close-bracket', text: BASE.replace('hidden [8] }', 'hidden [8 }'), codes: ['MSA1010'] },
  { name: 'keyword-as-top-level-key', text: BASE.replace('seeds [1111, 1112]', 'head { M 1 }'), codes: ['MSA1022'] },
  { name: 'two-separate-typos', text: BASE.replace('batch_size 32', 'batch_size: 32').replace('version 1', 'version 1.2.3'), codes: ['MSA1014', 'MSA1020'] },
];

function render(name: string, text: string): { out: string; codes: string[]; recovered: unknown } {
  const file = new SourceFile(`${name}.mmsa`, text);
  const host = new SourceHost();
  host.add(file);
  const r = parseDslDetailed(file);
  return {
    out: `${text}\n---- diagnostics ----\n${formatDiagnostics(r.diagnostics, host)}`,
    codes: r.diagnostics.map((d) => d.code),
    recovered: r.recoveredTree ? toValue(r.recoveredTree) : undefined,
  };
}

describe('syntax error recovery: one typo, one diagnostic', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { out, codes } = render(c.name, c.text);
      expect(codes).toEqual(c.codes);
      const path = join(BASELINES, `${c.name}.txt`);
      expectBaseline(path, out);
    });
  }

  it('checks the rest of the file after a mistake', () => {
    const { recovered } = render('rest', BASE.replace('batch_size 32', 'batch_size: 32'));
    expect(recovered).toMatchObject({ seeds: [1111, 1112], tasks: { main: { type: 'l1', head: 'M' } }, train: { batch_size: 32, max_epochs: 3 } });
    const late = render('late', BASE.replace('dataset sims', 'dataset @').replace('[1111, 1112]', '[1111, 1112 @]'));
    expect(late.codes).toEqual(['MSA1012', 'MSA1012']);
  });

  it('gives file:line:col, a code frame and the expected tokens', () => {
    const { out } = render('frame', BASE.replace('hidden [8] }', 'hidden [8 }'));
    expect(out).toContain("frame.mmsa:6:42 - error MSA1010: syntax error: expected a value or ']', found '}'");
    expect(out).toMatch(/ 6 \|.*hidden \[8 }\n\s+\|\s+\^/);
  });
});

describe('recovery never throws', () => {
  it('on 300 random single-character edits of a pipeline', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = ['{', '}', '[', ']', '(', ')', ':', ',', '"', "'", '#', '@', '-', '.', 'x', '1', ' ', '\n', 'head ', 'encoder '];
    const src = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../../pipelines/self_mm_sims.mmsa'), 'utf8');
    for (let i = 0; i < 300; i++) {
      const at = rand(src.length);
      const text = rand(2) === 0 ? src.slice(0, at) + src.slice(at + 1) : src.slice(0, at) + alphabet[rand(alphabet.length)]! + src.slice(at);
      const file = new SourceFile(`fuzz-${i}.mmsa`, text);
      const host = new SourceHost();
      host.add(file);
      const r = parseDslDetailed(file);
      for (const d of r.diagnostics) {
        expect(d.code).toMatch(/^MSA1\d{3}$/);
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
        expect(d.span.start).toBeLessThanOrEqual(d.span.end);
      }
      if (r.diagnostics.length > 0) expect(formatDiagnostics(r.diagnostics, host)).toContain(`fuzz-${i}.mmsa:`);
      else expect(r.tree).toBeDefined();
    }
  });
});
