import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../../../../src/compiler/source/source-file.js';
import { parseDsl, parseDslDetailed } from '../../../../src/compiler/syntax/dsl/parse-dsl.js';
import { convertDslToYaml, formatDsl, printString, specToDsl, specToYaml } from '../../../../src/compiler/syntax/dsl/print-dsl.js';
import { parseYaml } from '../../../../src/compiler/syntax/yaml/parse-yaml.js';
import { toValue } from '../../../../src/compiler/spec/spec-tree.js';

function fmt(text: string): string {
  const r = formatDsl(new SourceFile('t.mmsa', text));
  expect(r.diagnostics).toEqual([]);
  return r.text!;
}

const MESSY = `// header comment
pipeline   demo{version 1
  extends "presets/self_mm.yaml"   # trailing
  dataset {name sims file unaligned_39}
  modality text {feature text_bert}


  # about audio
  modality audio {feature audio lengths audio_lengths}
  encoder text : bert {pretrained "bert-base-chinese" finetune true}
  fusion concat( text,audio )
  head M : regression on fusion {hidden [128,128] dropout 0.0}
  task main : l1 {head M}
  train {
    batch_size 32 grad_accum_steps 4
    optimizer { groups [ { name bert params [encoders.text] lr 5e-5 } { name other params ["*"] lr 1E-3 } ] }
    // dangling in train
  }
  seeds [1111,1112,]
}
# footer
`;

describe('formatDsl', () => {
  it('prints the canonical layout', () => {
    expect(fmt(MESSY)).toBe(`// header comment
pipeline demo {
  version 1
  extends "presets/self_mm.yaml" # trailing
  dataset { name sims, file unaligned_39 }
  modality text { feature text_bert }

  # about audio
  modality audio { feature audio, lengths audio_lengths }
  encoder text: bert { pretrained bert-base-chinese, finetune true }
  fusion concat(text, audio)
  head M: regression on fusion { hidden [128, 128], dropout 0.0 }
  task main: l1 { head M }
  train {
    batch_size 32
    grad_accum_steps 4
    optimizer {
      groups [{ name bert, params [encoders.text], lr 5e-5 }, { name other, params ["*"], lr 1E-3 }]
    }
    // dangling in train
  }
  seeds [1111, 1112]
}
# footer
`);
  });

  it('is idempotent and keeps every comment', () => {
    const once = fmt(MESSY);
    expect(fmt(once)).toBe(once);
    const before = parseDslDetailed(new SourceFile('a.mmsa', MESSY)).comments.map((c) => c.text);
    const after = parseDslDetailed(new SourceFile('b.mmsa', once)).comments.map((c) => c.text);
    expect(after).toEqual(before);
  });

  it('does not change the value', () => {
    const v = (t: string) => toValue(parseDsl(new SourceFile('t.mmsa', t)).tree!);
    expect(v(fmt(MESSY))).toEqual(v(MESSY));
  });

  it('is idempotent over every shipped .mmsa file', () => {
    const dir = join(import.meta.dirname, '../../../../pipelines');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mmsa'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const once = fmt(text);
      expect(fmt(once), f).toBe(once);
    }
  });

  it('breaks long blocks and lists over lines and keeps comments inside them', () => {
    const long = `pipeline { seeds [${Array.from({ length: 30 }, (_, i) => 1000 + i).join(', ')}] train { a [1, # one\n 2] } }`;
    const out = fmt(long);
    expect(out).toContain('  seeds [\n    1000,\n');
    expect(out).toContain('    a [\n      1, # one\n      2,\n    ]\n');
    expect(fmt(out)).toBe(out);
  });

  it('refuses to format a file with syntax errors', () => {
    const r = formatDsl(new SourceFile('t.mmsa', 'pipeline { version: 1 }'));
    expect(r.text).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MSA1020']);
  });
});

describe('specToDsl', () => {
  it('uses the sugar where the value has its shape and the generic form otherwise', () => {
    const text = specToDsl({
      name: 'x',
      version: 1,
      modalities: { text: { feature: 'text' } },
      encoders: { text: { type: 'bert', finetune: false }, audio: { hidden: 3, type: 'lstm' } },
      fusion: { type: 'concat', inputs: ['text', 'audio'] },
      heads: { M: { type: 'regression', input: 'fusion' }, T: { input: 'text', type: 'regression' } },
      tasks: { main: { type: 'l1', head: 'M' }, odd: null },
      head: 1,
      dataset: 'modality',
    });
    expect(text).toBe(`pipeline x {
  version 1

  modality text { feature text }

  encoder text: bert { finetune false }
  encoder audio { hidden 3, type lstm }

  fusion concat(text, audio)

  head M: regression on fusion
  head T on text { type regression }

  tasks { main { type l1, head M }, odd null }

  "head" 1
  dataset "modality"
}
`);
  });

  it('quotes strings only when a bare word would read differently', () => {
    expect(['text', 'encoders.text', 'bert-base-chinese', 'heads.*', 'on', 'pipeline'].map(printString)).toEqual(['text', 'encoders.text', 'bert-base-chinese', 'heads.*', 'on', 'pipeline']);
    expect(['true', 'null', '1', '5e-5', '*', 'a b', '', 'fusion:x', 'a-', '.inf', 'x"y', 'a\nb'].map(printString)).toEqual([
      '"true"', '"null"', '"1"', '"5e-5"', '"*"', '"a b"', '""', '"fusion:x"', '"a-"', '".inf"', '"x\\"y"', '"a\\nb"',
    ]);
  });

  it('writes numbers so they read back identically', () => {
    expect(specToDsl([0.00005, -0, 1e21, Infinity, -Infinity, NaN, 1])).toBe('[0.00005, -0, 1e+21, .inf, -.inf, .nan, 1]\n');
  });
});

describe('YAML conversion', () => {
  it('specToYaml reads back with parseYaml', () => {
    const v = { a: 'true', b: '1.0', c: [null, -0, 5e-5], d: { 'x y': '' } };
    expect(toValue(parseYaml(new SourceFile('t.yaml', specToYaml(v))).tree!)).toEqual(v);
  });

  it('convertDslToYaml keeps comments and number spellings', () => {
    const r = convertDslToYaml(new SourceFile('t.mmsa', '# top\npipeline {\n  # lead\n  lr 5e-5 # trail\n  dropout 0.0\n  seeds [1]\n}\n'));
    expect(r.text).toBe('# top\n\n# lead\nlr: 5e-5 # trail\ndropout: 0.0\nseeds:\n  - 1\n');
  });
});
