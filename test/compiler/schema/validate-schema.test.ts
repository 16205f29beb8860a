import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../../src/compiler/source/source-file.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';
import { validateSchema } from '../../../src/compiler/schema/validate-schema.js';
import { fromValue } from '../../../src/compiler/spec/spec-tree.js';
import { VALID_SPEC, at, check, mutate, posOf, type Checked } from './spec-fixtures.js';
import { ENCODER_TYPES } from '../../../src/compiler/spec/types.generated.js';

/** The valid encoder types as hints list them (generated from the component folders, so a new encoder does not move this test). */
const ENCODER_LIST = ENCODER_TYPES.join(', ');

/** The single diagnostic of a check, with where it points. */
function only(c: Checked) {
  expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toHaveLength(1);
  const d = c.diagnostics[0]!;
  return { d, ...at(c, d) };
}

describe('validateSchema: a valid spec', () => {
  it('accepts the full Self-MM-like spec', () => {
    expect(check(VALID_SPEC).diagnostics).toEqual([]);
  });

  it('accepts the dataset as a plain name, a synthetic one and a custom file', () => {
    const spec = (ds: string) => mutate(VALID_SPEC, 'dataset:\n  name: sims\n  file: unaligned_39\n', ds);
    expect(check(spec('dataset: sims\n')).diagnostics).toEqual([]);
    expect(check(spec('dataset: {type: synthetic, like: mosi, n_train: 8, seq_lens: {text: 5}}\n')).diagnostics).toEqual([]);
    expect(check(spec('dataset:\n  path: ${DATA:-/data/x.pkl}\n  task: regression\n  metrics: [MAE, Corr]\n')).diagnostics).toEqual([]);
  });
});

describe('validateSchema: one diagnostic per error kind', () => {
  it('MSA2001: unknown key, at the key, with did-you-mean from the allowed keys', () => {
    const text = mutate(VALID_SPEC, '    dropout: 0.1\n  vision', '    dropuot: 0.1\n  vision');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2001');
    expect(r.d.message).toBe("unknown key 'dropuot' in encoders.audio");
    expect(r.d.hint).toBe("did you mean 'dropout'?");
    expect(r.text).toBe('dropuot');
    expect([r.line, r.column]).toEqual([26, 5]);
  });

  it('MSA2001: without a close candidate the hint lists the known keys', () => {
    const r = only(check(mutate(VALID_SPEC, '  clip: null', '  clip: null\n  zzz: 1')));
    expect(r.d.message).toBe("unknown key 'zzz' in train");
    expect(r.d.hint).toMatch(/^known keys: 'batch_size', 'clip', /);
  });

  it('MSA2001 replaces "missing" when the unknown key is a typo of a required one', () => {
    const r = only(check(mutate(VALID_SPEC, '    hidden: 16\n', '    hiden: 16\n')));
    expect(r.d.code).toBe('MSA2001');
    expect(r.d.hint).toBe("did you mean 'hidden'?");
    const top = only(check(mutate(VALID_SPEC, 'tasks:\n', 'taks:\n')));
    expect(top.d.message).toBe("unknown key 'taks' in the spec");
    expect(top.d.hint).toBe("did you mean 'tasks'?");
    expect({ line: top.line, column: top.column }).toEqual(posOf(mutate(VALID_SPEC, 'tasks:\n', 'taks:\n'), 'taks:'));
  });

  it('MSA2002: missing key, at the parent key, hint with the description', () => {
    const text = mutate(VALID_SPEC, '    hidden: 16\n    out: 16\n', '    out: 16\n');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2002');
    expect(r.d.message).toBe("missing required key 'hidden' in encoders.audio");
    expect(r.text).toBe('audio');
    expect([r.line, r.column]).toEqual([22, 3]);
    expect(r.d.hint).toBe("add 'hidden' (an integer): hidden size of the recurrent layer");
  });

  it("MSA2002 on a property that shares its shape through $defs (crossmodal's heads): the hint is the property's own description", () => {
    const r = only(check(mutate(VALID_SPEC, '  type: concat\n', '  type: crossmodal\n  layers: 2\n')));
    expect(r.d.message).toBe("missing required key 'heads' in fusion");
    expect(r.d.hint).toBe("add 'heads' (an integer): attention heads of every encoder (MulT: dst_feature_dim_nheads[1])");
    // The shared definition's bounds hold for the property that refers to it.
    const bad = only(check(mutate(VALID_SPEC, '  type: concat\n', '  type: crossmodal\n  heads: 2\n  layers: 2\n  res_dropout: 1.5\n')));
    expect(bad.d.message).toContain('fusion.res_dropout');
    expect(bad.text).toBe('1.5');
  });

  it('MSA2002: a missing top-level key points at the start of the file', () => {
    const text = mutate(VALID_SPEC, 'seeds: [1111, 1112, 1113]\n', '').replace(/^tasks:\n(  .*\n)+/m, '');
    const r = only(check(text));
    expect(r.d.message).toBe("missing required key 'tasks' in the spec");
    expect([r.line, r.column]).toEqual([1, 1]);
  });

  it('MSA2002: a component without `type`, and a misspelt `type`', () => {
    const r = only(check(mutate(VALID_SPEC, '    type: lstm\n    hidden: 16', '    hidden: 16')));
    expect(r.d.message).toBe("missing required key 'type' in encoders.audio");
    expect(r.d.hint).toContain(ENCODER_LIST);
    expect(ENCODER_LIST).toContain('bert, conv1d, crossmodal_attn, dilated_tcn, gated_cnn, gru, lstm, misa_lstm, mlp, precomputed');
    const t = only(check(mutate(VALID_SPEC, '    type: lstm\n    hidden: 16', '    typ: lstm\n    hidden: 16')));
    expect(t.d.code).toBe('MSA2001');
    expect(t.text).toBe('typ');
    expect(t.d.hint).toBe("did you mean 'type'?");
  });

  it('MSA2003: wrong type, names the expected and the actual value', () => {
    const text = mutate(VALID_SPEC, 'hidden: 16\n', 'hidden: "16"\n');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2003');
    expect(r.d.message).toBe('encoders.audio.hidden must be an integer, got string "16"');
    expect(r.text).toBe('"16"');
    expect([r.line, r.column]).toEqual([24, 13]);
  });

  it('MSA2003: a list item', () => {
    const text = mutate(VALID_SPEC, 'seeds: [1111, 1112, 1113]', 'seeds: [1111, abc]');
    const r = only(check(text));
    expect(r.d.message).toBe('seeds[1] must be an integer, got string "abc"');
    expect({ line: r.line, column: r.column }).toEqual(posOf(text, 'abc'));
  });

  it('MSA2003: `integer | null` collapses to one error', () => {
    const text = mutate(VALID_SPEC, 'max_epochs: null', 'max_epochs: many');
    const r = only(check(text));
    expect(r.d.message).toBe('train.max_epochs must be an integer or null, got string "many"');
    expect(r.text).toBe('many');
  });

  it('MSA2003: a dataset that is neither a name nor a mapping', () => {
    const r = only(check(mutate(VALID_SPEC, 'dataset:\n  name: sims\n  file: unaligned_39', 'dataset: 3')));
    expect(r.d.message).toBe('dataset must be a string or a mapping, got number 3');
  });

  it('MSA2004: unknown component type, did-you-mean and the valid types', () => {
    const text = mutate(VALID_SPEC, 'type: lstm\n    hidden: 16', 'type: lstmm\n    hidden: 16');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2004');
    expect(r.d.message).toBe("unknown encoder type 'lstmm'");
    expect(r.d.hint).toBe("did you mean 'lstm'?");
    expect(r.text).toBe('lstmm');
    expect([r.line, r.column]).toEqual([23, 11]);
    // Nothing close: the hint lists every type instead.
    const far = only(check(mutate(VALID_SPEC, 'type: lstm\n    hidden: 16', 'type: zzzz\n    hidden: 16')));
    expect(far.d.hint).toBe(`valid encoder types: ${ENCODER_LIST}`);
  });

  it('MSA2004: an unknown type does not hide mistakes in the other components', () => {
    let text = mutate(VALID_SPEC, 'type: lstm\n    hidden: 16', 'type: lstmm\n    hidden: 16\n    bogus: 1');
    text = mutate(text, 'hidden: 32', 'hidden: 0');
    const c = check(text);
    expect(c.diagnostics.map((d) => d.message)).toEqual([
      "unknown encoder type 'lstmm'",
      'encoders.vision.hidden must be >= 1, got 0',
    ]);
  });

  it('MSA2004: fusion (inside `fusion | null`), dataset and optimizer types', () => {
    const f = only(check(mutate(VALID_SPEC, '  type: concat\n', '  type: concatt\n')));
    expect(f.d.message).toBe("unknown fusion type 'concatt'");
    expect(f.d.hint).toMatch(/^did you mean 'concat'\?/);
    const ds = only(check(mutate(VALID_SPEC, '  name: sims\n  file: unaligned_39', '  type: synthtic\n  like: mosi')));
    expect(ds.d.message).toBe("unknown dataset type 'synthtic'");
    expect(ds.d.hint).toMatch(/^did you mean 'synthetic'\?/);
    const o = only(check(mutate(VALID_SPEC, '    type: adam', '    type: adamm')));
    expect(o.d.message).toBe("unknown optimizer type 'adamm'");
  });

  it('MSA2005: bounds', () => {
    const text = mutate(VALID_SPEC, 'patience: 8', 'patience: 0');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2005');
    expect(r.d.message).toBe('train.early_stop.patience must be >= 1, got 0');
    expect([r.line, r.column]).toEqual([86, 15]);
    const m = only(check(mutate(VALID_SPEC, 'max_epochs: null', 'max_epochs: 0')));
    expect(m.d.message).toBe('train.max_epochs must be >= 1, got 0');
    const d = only(check(mutate(VALID_SPEC, '    dropout: 0.1\n  T:', '    dropout: 1.5\n  T:')));
    expect(d.d.message).toBe('heads.M.dropout must be <= 1, got 1.5');
  });

  it('MSA2006: enum with did-you-mean', () => {
    const text = mutate(VALID_SPEC, 'splits: [valid, test]', 'splits: [valid, tset]');
    const r = only(check(text));
    expect(r.d.code).toBe('MSA2006');
    expect(r.d.message).toBe("eval.splits[1] must be one of 'train', 'valid', 'test', got 'tset'");
    expect(r.d.hint).toBe("did you mean 'test'?");
    expect([r.line, r.column]).toEqual([93, 19]);
  });

  it('MSA2006: the enum branch of `preset | list`', () => {
    const r = only(check(mutate(VALID_SPEC, 'metrics: sims', 'metrics: simss')));
    expect(r.d.message).toMatch(/^eval\.metrics must be one of 'mosi', .*, got 'simss'$/);
    expect(r.d.hint).toBe("did you mean 'sims'?");
  });

  it('MSA2007: pattern, for a value and for a key name', () => {
    const v = only(check(mutate(VALID_SPEC, 'inputs: [text, audio, vision]', 'inputs: [text, audio-x, vision]')));
    expect(v.d.code).toBe('MSA2007');
    expect(v.d.message).toBe("fusion.inputs[1] must match ^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?(:[A-Za-z_][A-Za-z0-9_]*)?$, got 'audio-x'");
    expect(v.text).toBe('audio-x');
    const k = only(check(mutate(VALID_SPEC, '  audio:\n    feature: audio', '  audio-x:\n    feature: audio')));
    expect(k.d.message).toBe("names in modalities must match ^[A-Za-z_][A-Za-z0-9_]*$, got 'audio-x'");
    expect(k.text).toBe('audio-x');
    expect([k.line, k.column]).toEqual([10, 3]);
  });

  it('MSA2009: version', () => {
    const r = only(check(mutate(VALID_SPEC, 'version: 1', 'version: 2')));
    expect(r.d.code).toBe('MSA2009');
    expect(r.d.message).toBe('unsupported spec version 2');
    expect([r.line, r.column]).toEqual([1, 10]);
  });

  it('MSA2010: duplicate item, at the repeat, with the first as related', () => {
    const text = mutate(VALID_SPEC, 'splits: [valid, test]', 'splits: [valid, valid]');
    const c = check(text);
    const r = only(c);
    expect(r.d.code).toBe('MSA2010');
    expect(r.d.message).toBe("eval.splits has a duplicate item 'valid'");
    expect([r.line, r.column]).toEqual([93, 19]);
    expect(c.file.positionAt(r.d.related![0]!.span.start)).toEqual({ line: 93, column: 12 });
  });

  it('MSA2011: sizes of lists and mappings', () => {
    const g = only(check(mutate(VALID_SPEC, "        params: ['*']", '        params: []')));
    expect(g.d.code).toBe('MSA2011');
    expect(g.d.message).toBe('train.optimizer.groups[2].params must have at least 1 item, got 0');
    const b = only(check(mutate(VALID_SPEC, '    type: adam', '    type: adam\n    betas: [0.9]')));
    expect(b.d.message).toBe('train.optimizer.betas must have exactly 2 items, got 1');
    const h = only(check(mutate(VALID_SPEC, '    heads: {text: T, audio: A, vision: V}', '    heads: {}')));
    expect(h.d.message).toBe('tasks.ulgm.heads must have at least 1 entry, got 0');
  });
});

describe('validateSchema: alternatives report only the branch the value is meant for', () => {
  const ds = (body: string) => check(mutate(VALID_SPEC, '  name: sims\n  file: unaligned_39', body));

  it('named dataset', () => {
    const r = only(ds('  name: sims\n  flie: unaligned_39'));
    expect(r.d.message).toBe("unknown key 'flie' in dataset");
    expect(r.d.hint).toBe("did you mean 'file'?");
  });

  it('synthetic dataset (has `type`)', () => {
    const c = ds('  type: synthetic\n  like: mosj\n  n_train: 0');
    expect(c.diagnostics.map((d) => d.message)).toEqual([
      "dataset.like must be one of 'mosi', 'mosei', 'sims', 'simsv2', 'depression', 'humour', 'sarcasm', got 'mosj'",
      'dataset.n_train must be >= 1, got 0',
    ]);
  });

  it('custom dataset (has `path`)', () => {
    const r = only(ds('  path: /x.pkl\n  task: regresion'));
    expect(r.d.message).toBe("dataset.task must be one of 'regression', 'classification', got 'regresion'");
  });

  it('a mapping with neither name, type nor path is read as a named dataset', () => {
    const r = only(ds('  file: unaligned_39'));
    expect(r.d.message).toBe("missing required key 'name' in dataset");
  });

  it('alternatives nested in a chosen branch are resolved the same way', () => {
    const m = only(ds('  path: /x.pkl\n  metrics: simss'));
    expect(m.d.message).toMatch(/^dataset\.metrics must be one of 'mosi', .*, got 'simss'$/);
    expect(m.d.hint).toBe("did you mean 'sims'?");
    const n = only(ds('  path: /x.pkl\n  metrics: [MAE, MAE]'));
    expect(n.d.message).toBe("dataset.metrics has a duplicate item 'MAE'");
    const f = only(check(mutate(VALID_SPEC, '  inputs: [text, audio, vision]\n', '  inputs: [text, audio, vision]\n  in_dims: [768, 0, 32]\n')));
    expect(f.d.message).toBe('fusion.in_dims[1] must be >= 1, got 0');
    const h = only(check(mutate(VALID_SPEC, '    hidden: [16]\n', '    hidden: [16]\n    output_range: [1]\n')));
    expect(h.d.message).toBe('heads.A.output_range must have exactly 2 items, got 1');
  });

  it('clip: the object branch of `null | {type, max}`', () => {
    const c = check(mutate(VALID_SPEC, '  clip: null', '  clip: {type: norm, max: 0}'));
    expect(c.diagnostics.map((d) => d.message)).toEqual(['train.clip.max must be > 0, got 0']);
  });
});

describe('validateSchema: several mistakes', () => {
  it('five different mistakes give exactly five diagnostics, sorted by place', () => {
    let text = VALID_SPEC;
    text = mutate(text, 'version: 1', 'version: 3');
    text = mutate(text, 'type: lstm\n    hidden: 16', 'type: lstmm\n    hidden: 16');
    text = mutate(text, 'hidden: 32', 'hidden: "32"');
    text = mutate(text, '    dropout: 0.1\n  T:', '    dropuot: 0.1\n  T:');
    text = mutate(text, 'patience: 8', 'patience: 0');
    const c = check(text);
    expect(c.diagnostics.map((d) => [d.code, at(c, d).line])).toEqual([
      ['MSA2009', 1],
      ['MSA2004', 23],
      ['MSA2003', 29],
      ['MSA2001', 40],
      ['MSA2005', 86],
    ]);
  });

  it('keys inside a component of unknown type are not reported (its keys are unknown too)', () => {
    let text = mutate(VALID_SPEC, 'type: lstm\n    hidden: 16', 'type: lstmm\n    hidden: 16');
    text = mutate(text, '    dropout: 0.1\n  vision', '    dropuot: 0.1\n  vision');
    expect(check(text).diagnostics.map((d) => d.code)).toEqual(['MSA2004']);
  });
});

describe('validateSchema: dataset manifests', () => {
  const MANIFEST = `name: sims
description: CH-SIMS
language: cn
task: regression
label_range: [-1, 1]
metrics: sims
pretrained: bert-base-chinese
default_file: unaligned_39
files:
  unaligned_39:
    path: SIMS/Processed/unaligned_39.pkl
    sha256: null
    aligned: false
    splits: {train: 1368, valid: 456, test: 457}
    features:
      text_bert: {key: text_bert, shape: [3, 39], dtype: float}
      audio: {key: audio, shape: [400, 33], lengths: audio_lengths}
    labels: {M: regression_labels, T: regression_labels_T}
`;

  it('accepts a manifest', () => {
    expect(check(MANIFEST, 'dataset', '/fake/sims.dataset.yaml').diagnostics).toEqual([]);
  });

  it('reports manifest mistakes with spans in the manifest', () => {
    let text = mutate(MANIFEST, 'sha256: null', 'sha256: abc');
    text = mutate(text, 'valid: 456', 'valid: 0');
    text = mutate(text, 'dtype: float', 'dtype: flaot');
    const c = check(text, 'dataset', '/fake/sims.dataset.yaml');
    expect(c.diagnostics.map((d) => [d.code, d.message, at(c, d).line])).toEqual([
      ['MSA2007', "files.unaligned_39.sha256 must match ^[0-9a-f]{64}$, got 'abc'", 12],
      ['MSA2005', 'files.unaligned_39.splits.valid must be >= 1, got 0', 14],
      ['MSA2006', "files.unaligned_39.features.text_bert.dtype must be one of 'float', 'int', 'str', got 'flaot'", 16],
    ]);
    expect(c.diagnostics.every((d) => d.span.file === '/fake/sims.dataset.yaml')).toBe(true);
    expect(c.diagnostics[2]!.hint).toBe("did you mean 'float'?");
  });

  it('a pipeline is not a manifest', () => {
    const codes = check(VALID_SPEC, 'dataset').diagnostics.map((d) => d.code);
    expect(codes).toContain('MSA2002');
    expect(codes).toContain('MSA2001');
  });
});

describe('validateSchema: trees built in code', () => {
  it('works on synthetic spans (all diagnostics share the one span)', () => {
    const span = { file: '<code>', start: 0, end: 0 };
    const ds = validateSchema(fromValue({ version: 1, dataset: 'sims' }, span), 'pipeline');
    expect(ds.map((d) => d.message)).toEqual([
      "missing required key 'encoders' in the spec",
      "missing required key 'heads' in the spec",
      "missing required key 'modalities' in the spec",
      "missing required key 'tasks' in the spec",
    ]);
  });

  it('a top level that is not a mapping', () => {
    const file = new SourceFile('/fake/list.yaml', '- a\n- b\n');
    const ds = validateSchema(parseYaml(file).tree!, 'pipeline');
    expect(ds.map((d) => d.message)).toEqual(['the spec must be a mapping, got a list']);
  });
});
