import { describe, it, expect } from 'vitest';
import { parseDocument } from 'yaml';
import { SourceFile } from '../../../../src/compiler/source/source-file.js';
import { parseDsl, parseDslDetailed } from '../../../../src/compiler/syntax/dsl/parse-dsl.js';
import { nodeAt, spanAt, toValue, type SpecNode } from '../../../../src/compiler/spec/spec-tree.js';

function parse(text: string) {
  const file = new SourceFile('t.mmsa', text);
  const r = parseDsl(file);
  return { ...r, file, value: r.tree ? toValue(r.tree) : undefined };
}

function ok(text: string) {
  const r = parse(text);
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return { ...r, tree: r.tree as SpecNode };
}

function textAt(r: { file: SourceFile; tree: SpecNode }, path: (string | number)[], key = false): string {
  const s = spanAt(r.tree, path, { key });
  return r.file.text.slice(s.start, s.end);
}

describe('parseDsl: scalars', () => {
  it('reads numbers the way YAML does (ints, floats, exponents, negatives)', () => {
    const lits = ['0', '32', '-1', '007', '1.0', '0.1', '-0.25', '5e-5', '1E3', '1.5e+2', '-0', '12345678901234567890', '1e400'];
    const r = ok(`[${lits.join(', ')}]`);
    const fromYaml = parseDocument(`[${lits.join(', ')}]`).toJS() as unknown[];
    expect(r.value).toEqual(fromYaml);
    expect(Object.is((r.value as number[])[10], -0)).toBe(true);
  });

  it("reads YAML's special floats", () => {
    expect(ok('[.inf, -.inf, .nan]').value).toEqual([Infinity, -Infinity, NaN]);
  });

  it('reads booleans, null, bare words, dotted and hyphenated words', () => {
    expect(ok('[true, false, null, text_bert, encoders.text, heads.*, bert-base-chinese, LayerNorm.weight]').value).toEqual([
      true, false, null, 'text_bert', 'encoders.text', 'heads.*', 'bert-base-chinese', 'LayerNorm.weight',
    ]);
  });

  it('reads double-quoted strings with escapes', () => {
    expect(ok(String.raw`["a \"b\" c", "tab\there", "line\nbreak", "\u00e9\\", "true", "1.0", ""]`).value).toEqual([
      'a "b" c', 'tab\there', 'line\nbreak', '\u00e9\\', 'true', '1.0', '',
    ]);
  });

  it('treats keywords as plain words outside their declarations', () => {
    expect(ok('[pipeline, modality, encoder, fusion, head, task, on]').value).toEqual(['pipeline', 'modality', 'encoder', 'fusion', 'head', 'task', 'on']);
  });

  it('marks quoted and plain scalars', () => {
    const r = ok('[a, "a", 1]');
    const items = (r.tree as { items: { style?: string }[] }).items;
    expect(items.map((i) => i.style)).toEqual(['plain', 'quoted', 'plain']);
  });
});

describe('parseDsl: blocks and lists', () => {
  it('reads nested blocks, lists of maps, quoted keys and optional commas', () => {
    const r = ok(`{
      a 1, b { c [1, 2,] d { } }
      "key with spaces" x
      "1" null
      groups [ { name bert  params [encoders.text] lr 5e-5 }, {name other, params ["*"]} ]
      empty []
      nested [[1], [], [[true]]]
    }`);
    expect(r.value).toEqual({
      a: 1,
      b: { c: [1, 2], d: {} },
      'key with spaces': 'x',
      '1': null,
      groups: [{ name: 'bert', params: ['encoders.text'], lr: 5e-5 }, { name: 'other', params: ['*'] }],
      empty: [],
      nested: [[1], [], [[true]]],
    });
  });

  it('accepts any value at the top level, not only a pipeline', () => {
    expect(ok('[1, 2]').value).toEqual([1, 2]);
    expect(ok('"just a string"').value).toBe('just a string');
    expect(ok('{ a 1 }').value).toEqual({ a: 1 });
    expect(ok('pipeline').value).toBe('pipeline');
    expect(ok('null').value).toBe(null);
  });

  it('ignores # and // comments', () => {
    expect(ok('# top\n{ a 1 // one\n  # between\n  b 2 }  # end\n// last').value).toEqual({ a: 1, b: 2 });
  });

  it('uses keywords as keys inside blocks', () => {
    expect(ok('{ head M, task x, on y, modality z, encoder w, fusion f, pipeline p }').value).toEqual({
      head: 'M', task: 'x', on: 'y', modality: 'z', encoder: 'w', fusion: 'f', pipeline: 'p',
    });
  });

  it('spans point at keys and values', () => {
    const r = ok('{ train { batch_size 32, lr 5e-5 } }');
    expect(textAt(r, ['train', 'batch_size'])).toBe('32');
    expect(textAt(r, ['train', 'batch_size'], true)).toBe('batch_size');
    expect(textAt(r, ['train', 'lr'])).toBe('5e-5');
    expect(textAt(r, ['train'])).toBe('{ batch_size 32, lr 5e-5 }');
  });
});

describe('parseDsl: pipeline and sugar', () => {
  const src = `pipeline demo {
  version 1
  extends "presets/self_mm.yaml"
  dataset { name sims  file unaligned_39 }
  modality text { feature text_bert }
  modality audio { feature audio  lengths audio_lengths }
  encoder text: bert { pretrained "bert-base-chinese"  finetune true }
  encoder audio: lstm { hidden 16  out 16 }
  encoder vision
  fusion concat(text, audio, vision) { in_dims [1, 2, 3] }
  head M: regression on fusion { hidden [128, 128]  dropout 0.0 }
  head T on text
  head X: classification
  task main: l1 { head M }
  task ulgm: ulgm { fusion_head M  heads { text T  audio A }  H 1.0 }
  train { batch_size 32 }
  seeds [1111, 1112]
}`;

  it('expands every sugar into the tree YAML would give', () => {
    const r = ok(src);
    expect(r.value).toEqual({
      name: 'demo',
      version: 1,
      extends: 'presets/self_mm.yaml',
      dataset: { name: 'sims', file: 'unaligned_39' },
      modalities: { text: { feature: 'text_bert' }, audio: { feature: 'audio', lengths: 'audio_lengths' } },
      encoders: {
        text: { type: 'bert', pretrained: 'bert-base-chinese', finetune: true },
        audio: { type: 'lstm', hidden: 16, out: 16 },
        vision: {},
      },
      fusion: { type: 'concat', inputs: ['text', 'audio', 'vision'], in_dims: [1, 2, 3] },
      heads: {
        M: { type: 'regression', input: 'fusion', hidden: [128, 128], dropout: 0 },
        T: { input: 'text' },
        X: { type: 'classification' },
      },
      tasks: { main: { type: 'l1', head: 'M' }, ulgm: { type: 'ulgm', fusion_head: 'M', heads: { text: 'T', audio: 'A' }, H: 1 } },
      train: { batch_size: 32 },
      seeds: [1111, 1112],
    });
    // Key order follows the first declaration of each section.
    expect(Object.keys(r.value as object)).toEqual(['name', 'version', 'extends', 'dataset', 'modalities', 'encoders', 'fusion', 'heads', 'tasks', 'train', 'seeds']);
  });

  it('points synthesized entries at the words that produced them', () => {
    const r = ok(src);
    expect(textAt(r, ['name'])).toBe('demo');
    expect(textAt(r, ['name'], true)).toBe('pipeline');
    expect(textAt(r, ['encoders', 'text', 'type'])).toBe('bert');
    expect(textAt(r, ['encoders', 'text', 'type'], true)).toBe('bert');
    expect(textAt(r, ['encoders', 'audio'], true)).toBe('audio');
    expect(textAt(r, ['encoders'], true)).toBe('encoder');
    expect(textAt(r, ['heads', 'M', 'input'])).toBe('fusion');
    expect(textAt(r, ['heads', 'M', 'input'], true)).toBe('on');
    expect(textAt(r, ['fusion', 'type'])).toBe('concat');
    expect(textAt(r, ['fusion', 'inputs'])).toBe('(text, audio, vision)');
    expect(textAt(r, ['fusion', 'inputs', 1])).toBe('audio');
    expect(textAt(r, ['modalities', 'audio'])).toBe('{ feature audio  lengths audio_lengths }');
    expect(textAt(r, ['tasks', 'ulgm', 'heads', 'audio'])).toBe('A');
    expect(nodeAt(r.tree, ['modalities'])?.span.start).toBe(src.indexOf('modality text'));
  });

  it('keeps the generic form available for the same sections', () => {
    const generic = ok(`pipeline {
      modalities { text { feature text } }
      encoders { text { type bert } }
      fusion { type concat, inputs [text] }
      heads { M { type regression, input fusion } }
      tasks { main { type l1, head M } }
    }`);
    const sugar = ok(`pipeline {
      modality text { feature text }
      encoder text: bert
      fusion concat(text)
      head M: regression on fusion
      task main: l1 { head M }
    }`);
    expect(sugar.value).toEqual(generic.value);
    expect(ok('pipeline { fusion null }').value).toEqual({ fusion: null });
  });

  it('quotes keys that would start a declaration at the top level', () => {
    expect(ok('pipeline { "head" 1, "modality" [x], "on" true, pipeline 2, fusion concat }').value).toEqual({ head: 1, modality: ['x'], on: true, pipeline: 2, fusion: 'concat' });
  });

  it('accepts quoted names, types and inputs in declarations', () => {
    expect(ok('pipeline "my pipe" { encoder "a b": "x y" head "H": "t" on "a b" fusion "f"("a b", c) }').value).toEqual({
      name: 'my pipe',
      encoders: { 'a b': { type: 'x y' } },
      heads: { H: { type: 't', input: 'a b' } },
      fusion: { type: 'f', inputs: ['a b', 'c'] },
    });
  });

  it('reports duplicate keys like YAML, also across sugar and generic forms', () => {
    const r = parse('pipeline { modality text { feature a } modality text { feature b } modalities {} encoder e: lstm { type gru } }');
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "MSA1002 duplicate key 'text'",
      "MSA1002 duplicate key 'modalities'",
      "MSA1002 duplicate key 'type'",
    ]);
    expect(r.tree).toBeDefined();
  });

  it('reports an empty file', () => {
    expect(parse('').diagnostics.map((d) => d.code)).toEqual(['MSA1005']);
    expect(parse('# only a comment\n').diagnostics.map((d) => d.code)).toEqual(['MSA1005']);
  });

  it('keeps a recovered tree next to the diagnostics when there are syntax errors', () => {
    const r = parseDslDetailed(new SourceFile('t.mmsa', 'pipeline { version 1 train { batch_size: 32 } seeds [1] }'));
    expect(r.tree).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MSA1020']);
    expect(toValue(r.recoveredTree!)).toEqual({ version: 1, train: { batch_size: 32 }, seeds: [1] });
  });
});

describe('parseDsl: comments and blank lines are recorded for the formatter', () => {
  it('attaches leading, trailing and dangling comments', () => {
    const r = parseDslDetailed(new SourceFile('t.mmsa', '# head\npipeline {\n  # lead\n  version 1 # trail\n\n  seeds [1]\n  # dangling\n}\n// foot\n'));
    const root = r.tree!;
    expect(root.kind).toBe('map');
    if (root.kind !== 'map') return;
    const [version, seeds] = root.entries;
    expect(r.trivia.leading.get(root)).toEqual(['# head']);
    expect(r.trivia.leading.get(version!)).toEqual(['# lead']);
    expect(r.trivia.trailing.get(version!)).toBe('# trail');
    expect(r.trivia.dangling.get(root)).toEqual(['# dangling']);
    expect(r.trivia.blankBefore.has(seeds!)).toBe(true);
    expect(r.trivia.blankBefore.has(version!)).toBe(false);
  });
});
