// compileFile end to end: extends merge rules, preset names vs paths, ${ENV} interpolation, schema defaults and the
// semantic defaults of phase 3, and `mmsa compile --emit spec` output. Phases 0-5.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../src/cli/main.js';
import { compileFile, type CompileOptions } from '../../src/compiler/compile.js';
import { fillDefaults } from '../../src/compiler/spec/fill-defaults.js';
import { fromValue, type JsonValue } from '../../src/compiler/spec/spec-tree.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'mmsa-compile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const p = join(tmp, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function compile(path: string, opts: CompileOptions = {}) {
  return compileFile(path, { env: {}, ...opts });
}

function codes(r: { diagnostics: { code: string }[] }): string[] {
  return r.diagnostics.map((d) => d.code);
}

/** A small valid spec on MOSI (unaligned: audio has lengths). */
const MINIMAL = `version: 1
dataset: {name: mosi, file: unaligned_50}
modalities:
  text: {feature: text}
  audio: {feature: audio}
encoders:
  text: {type: precomputed}
  audio: {type: lstm, hidden: 8, out: 8}
fusion: {type: concat, inputs: [text, audio]}
heads:
  M: {type: regression, input: fusion, hidden: [32, 32]}
tasks:
  main: {type: l1, head: M}
`;

describe('extends', () => {
  it('a dataset of another kind replaces the base dataset whole (a paper config on your own file)', () => {
    write('ds/own.pkl', '');
    const f = write('ds/child.yaml', `version: 1
extends: ${join(repoRoot, 'pipelines/lf_dnn_mosi.yaml')}
dataset: {path: ./own.pkl, features: {text: {key: text, shape: [6, 32]}, audio: {key: audio, shape: [8, 5]}, vision: {key: vision, shape: [10, 20]}}}
`);
    const r = compile(f);
    expect(codes(r)).toEqual([]);
    expect(r.spec!.dataset).toEqual(expect.objectContaining({ path: './own.pkl' }));
    expect(r.spec!.dataset).not.toHaveProperty('file');
    expect(r.ir!.dataset.source).toBe('custom');
    const same = write('ds/same-kind.yaml', `version: 1\nextends: ${join(repoRoot, 'pipelines/lf_dnn_mosi.yaml')}\ndataset: {file: aligned_50}\n`);
    expect(compile(same).spec!.dataset).toEqual({ name: 'mosi', file: 'aligned_50' });
  });

  it('merges maps key by key and replaces lists', () => {
    write('merge/base.yaml', MINIMAL + 'seeds: [1, 2, 3]\ntrain: {batch_size: 8, optimizer: {lr: 0.01}}\n');
    const f = write('merge/child.yaml', `version: 1
extends: ./base.yaml
encoders:
  audio: {dropout: 0.25}
heads:
  M: {hidden: [16]}
train: {optimizer: {weight_decay: 0.001}}
seeds: [7]
`);
    const r = compile(f);
    expect(codes(r)).toEqual([]);
    // Maps merge: the base's lstm keeps its type and sizes; the child's dropout is added.
    expect(r.spec!.encoders['audio']).toMatchObject({ type: 'lstm', hidden: 8, out: 8, dropout: 0.25 });
    expect(r.spec!.train.optimizer).toMatchObject({ lr: 0.01, weight_decay: 0.001 });
    expect(r.spec!.train.batch_size).toBe(8);
    // Lists replace.
    expect(r.spec!.heads['M']).toMatchObject({ hidden: [16] });
    expect(r.spec!.seeds).toEqual([7]);
    expect(r.files).toEqual([f, join(tmp, 'merge/base.yaml')]);
  });

  it('replaces a component whole when its type changes', () => {
    write('swap/base.yaml', MINIMAL);
    const f = write('swap/child.yaml', 'version: 1\nextends: ./base.yaml\nencoders:\n  audio: {type: subnet, hidden: 4}\n');
    const r = compile(f);
    expect(codes(r)).toEqual([]);
    // Nothing of the base's lstm (out, layers, packed) leaks into the subnet, which would not validate.
    expect(r.spec!.encoders['audio']).toEqual({ type: 'subnet', hidden: 4, dropout: 0 });
  });

  it('applies a list of bases in order, then the file itself', () => {
    write('order/a.yaml', MINIMAL + 'train: {batch_size: 8, max_epochs: 3}\ndescription: from a\n');
    write('order/b.yaml', 'version: 1\ntrain: {batch_size: 16}\ndescription: from b\n');
    const f1 = write('order/child.yaml', 'version: 1\nextends: [./a.yaml, ./b.yaml]\n');
    const r1 = compile(f1);
    expect(codes(r1)).toEqual([]);
    expect(r1.spec!.train.batch_size).toBe(16); // the later base wins
    expect(r1.spec!.train.max_epochs).toBe(3); // ... key by key
    expect(r1.spec!.description).toBe('from b');
    const f2 = write('order/child2.yaml', 'version: 1\nextends: [./b.yaml, ./a.yaml]\ntrain: {max_epochs: 5}\n');
    const r2 = compile(f2);
    expect(r2.spec!.train.batch_size).toBe(8);
    expect(r2.spec!.train.max_epochs).toBe(5); // the file itself wins over every base
    expect(r2.spec!).not.toHaveProperty('extends');
  });

  it('resolves a bare name to a preset before a sibling file, and a relative path to the file', () => {
    // A sibling named like a preset: `extends: lf_dnn` still means the shipped preset.
    write('presets-vs-paths/lf_dnn.yaml', MINIMAL + 'description: the sibling\n');
    const tail = 'dataset: mosi\nencoders:\n  audio: {type: subnet, hidden: 16}\n  vision: {type: subnet, hidden: 32}\n  text: {type: text_lstm, hidden: 64, out: 32}\n';
    const byName = compile(write('presets-vs-paths/by-name.yaml', `version: 1\nextends: lf_dnn\n${tail}`));
    expect(codes(byName)).toEqual([]);
    expect(byName.files[1]).toBe(join(repoRoot, 'pipelines/presets/lf_dnn.yaml'));
    expect(byName.files[2]).toBe(join(repoRoot, 'pipelines/presets/mmsa_defaults.yaml'));
    expect(byName.spec!.fusion).toMatchObject({ type: 'late' });

    const byPath = compile(write('presets-vs-paths/by-path.yaml', 'version: 1\nextends: ./lf_dnn.yaml\n'));
    expect(codes(byPath)).toEqual([]);
    expect(byPath.files[1]).toBe(join(tmp, 'presets-vs-paths/lf_dnn.yaml'));
    expect(byPath.spec!.description).toBe('the sibling');

    // A path without extension finds the .yaml file.
    const noExt = compile(write('presets-vs-paths/no-ext.yaml', 'version: 1\nextends: ./lf_dnn\n'));
    expect(noExt.files[1]).toBe(join(tmp, 'presets-vs-paths/lf_dnn.yaml'));

    // A bare name that is no preset falls back to a sibling file.
    write('presets-vs-paths/team.yaml', MINIMAL);
    const sibling = compile(write('presets-vs-paths/uses-team.yaml', 'version: 1\nextends: team\n'));
    expect(codes(sibling)).toEqual([]);
    expect(sibling.files[1]).toBe(join(tmp, 'presets-vs-paths/team.yaml'));
  });

  it('reports errors inside an extended file at that file, with the right line', () => {
    const base = write('inner/base.yaml', MINIMAL.replace('audio: {type: lstm, hidden: 8, out: 8}', 'audio: {type: lstm, hidden: 8, out: 8, hiden: 4}'));
    const f = write('inner/child.yaml', 'version: 1\nextends: ./base.yaml\n');
    const r = compile(f);
    expect(codes(r)).toEqual(['MSA2001']);
    const d = r.diagnostics[0]!;
    expect(d.span.file).toBe(base);
    const src = r.host.get(base)!;
    expect(src.text.slice(d.span.start, d.span.end)).toBe('hiden');
    expect(src.positionAt(d.span.start).line).toBe(8);
  });

  it('reports a cycle through two files once', () => {
    const a = write('cycle/a.yaml', 'version: 1\nextends: ./b.yaml\n');
    write('cycle/b.yaml', 'version: 1\nextends: ./a.yaml\n');
    const r = compile(a);
    expect(codes(r)).toEqual(['MSA2102']);
    expect(r.diagnostics[0]!.message).toBe('circular extends: a.yaml -> b.yaml -> a.yaml');
    expect(r.diagnostics[0]!.span.file).toBe(join(tmp, 'cycle/b.yaml'));
  });
});

describe('${ENV} interpolation', () => {
  const spec = (description: string) => write(`env/${Math.random().toString(36).slice(2)}.yaml`, `${MINIMAL}description: ${JSON.stringify(description)}\n`);

  it('expands ${NAME}, ${NAME:-default}, ${NAME-default} and $$', () => {
    const f = spec('${RUN} ${MISSING:-dflt} ${EMPTY:-x} [${EMPTY-y}] $$HOME $5 $${RUN}');
    const r = compile(f, { env: { RUN: 'r1', EMPTY: '' } });
    expect(codes(r)).toEqual([]);
    // `:-` also replaces an empty value, `-` only an unset one; `$$` is a literal $ and is not expanded further.
    expect(r.spec!.description).toBe('r1 dflt x [] $HOME $5 ${RUN}');
  });

  it('reports an unset variable without default at the value', () => {
    const f = spec('run ${NOPE}');
    const r = compile(f, { env: { OTHER: '1' } });
    expect(codes(r)).toEqual(['MSA2103']);
    expect(r.diagnostics[0]!.message).toContain("'NOPE'");
    expect(r.host.get(f)!.text.slice(r.diagnostics[0]!.span.start, r.diagnostics[0]!.span.end)).toBe('"run ${NOPE}"');
  });

  it('never reads process.env when an env is given', () => {
    const name = 'MMSA_TEST_ONLY_IN_PROCESS_ENV';
    process.env[name] = 'leaked';
    try {
      const r = compile(spec(`\${${name}}`), { env: {} });
      expect(codes(r)).toEqual(['MSA2103']);
    } finally {
      delete process.env[name];
    }
  });

  it('interpolates values only, also in extended files', () => {
    write('env-base/base.yaml', `${MINIMAL}description: "\${WHO:-nobody} was here"\n`);
    const r = compile(write('env-base/child.yaml', 'version: 1\nextends: ./base.yaml\n'), { env: { WHO: 'ada' } });
    expect(r.spec!.description).toBe('ada was here');
  });
});

describe('defaults', () => {
  it('fills schema defaults and lists their paths in `defaulted`', () => {
    const r = compile(write('defaults/minimal.yaml', MINIMAL));
    expect(codes(r)).toEqual([]);
    const spec = r.spec!;
    expect(spec.train.batch_size).toBe(32);
    expect(spec.train.optimizer.betas).toEqual([0.9, 0.999]);
    expect(spec.eval.splits).toEqual(['valid', 'test']);
    expect(spec.seeds).toEqual([1111, 1112, 1113, 1114, 1115]);
    expect(spec.name).toBe('minimal'); // from the file name
    for (const p of ['train', 'train.batch_size', 'train.optimizer', 'eval', 'seeds', 'heads.M.dropout', 'encoders.audio.layers']) {
      expect(r.defaulted).toContain(p);
    }
    // Written values are not defaulted.
    expect(r.defaulted).not.toContain('encoders.audio.hidden');
    expect(r.defaulted).not.toContain('heads.M.hidden');
  });

  it('does not list a value the spec sets', () => {
    const r = compile(write('defaults/batch.yaml', `${MINIMAL}train: {batch_size: 64}\n`));
    expect(r.spec!.train.batch_size).toBe(64);
    expect(r.defaulted).not.toContain('train.batch_size');
    expect(r.defaulted).toContain('train.grad_accum_steps');
  });

  it('packs an lstm exactly when its modality has lengths', () => {
    const unaligned = compile(write('packed/unaligned.yaml', MINIMAL));
    expect(unaligned.spec!.modalities['audio']!.lengths).toBe('audio_lengths');
    expect(unaligned.spec!.encoders['audio']).toMatchObject({ packed: true });
    expect(unaligned.defaulted).toContain('encoders.audio.packed');
    expect(unaligned.defaulted).toContain('modalities.audio.lengths');

    const aligned = compile(write('packed/aligned.yaml', MINIMAL.replace('unaligned_50', 'aligned_50')));
    expect(codes(aligned)).toEqual([]);
    expect(aligned.spec!.modalities['audio']!.lengths).toBeNull();
    expect(aligned.spec!.encoders['audio']).toMatchObject({ packed: false });

    const explicit = compile(write('packed/explicit.yaml', MINIMAL.replace('out: 8}', 'out: 8, packed: false}')));
    expect(explicit.spec!.encoders['audio']).toMatchObject({ packed: false });
    expect(explicit.defaulted).not.toContain('encoders.audio.packed');
  });

  it('takes eval.metrics from the dataset and sets audio -inf handling', () => {
    const mosi = compile(write('metrics/mosi.yaml', MINIMAL));
    expect(mosi.spec!.eval.metrics).toBe('mosi');
    expect(mosi.defaulted).toContain('eval.metrics');
    expect(mosi.spec!.eval.head).toBe('M');
    expect(mosi.spec!.modalities['audio']!.preprocess.neg_inf_to_zero).toBe(true);
    expect(mosi.spec!.modalities['text']!.preprocess.neg_inf_to_zero).toBe(false);
    const sims = compile(write('metrics/sims.yaml', MINIMAL.replace('{name: mosi, file: unaligned_50}', 'sims')));
    expect(codes(sims)).toEqual([]);
    expect(sims.spec!.eval.metrics).toBe('sims');
  });

  it('model selection follows early stopping unless the spec sets it', () => {
    const follows = compile(write('select/follows.yaml', `${MINIMAL}train: {early_stop: {metric: Has0_acc_2, patience: 4}}\n`));
    expect(codes(follows)).toEqual([]);
    expect(follows.spec!.train.early_stop.mode).toBe('max');
    expect(follows.spec!.train.select).toMatchObject({ metric: 'Has0_acc_2', split: 'valid', mode: 'max' });
    expect(follows.ir!.schedule.select).toMatchObject({ metric: 'Has0_acc_2', mode: 'max' });

    const own = compile(write('select/own.yaml', `${MINIMAL}train: {early_stop: {metric: Has0_acc_2}, select: {metric: MAE}}\n`));
    expect(codes(own)).toEqual([]);
    expect(own.spec!.train.select).toMatchObject({ metric: 'MAE', mode: 'min' });
    expect(own.spec!.train.early_stop).toMatchObject({ metric: 'Has0_acc_2', mode: 'max' });
  });
});

describe('mmsa compile --emit spec', () => {
  async function emit(file: string, what: 'spec' | 'ir' = 'spec'): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: Io = { out: (s) => (out += s), err: (s) => (err += s), cwd: repoRoot, env: {}, isTTY: false };
    const code = await main(['compile', file, '--emit', what], io);
    return { code, out, err };
  }

  it('prints the full normalized spec: no default is left to fill', async () => {
    const { code, out, err } = await emit('pipelines/self_mm_mosi.yaml');
    expect(err).toBe('');
    expect(code).toBe(0);
    const spec = JSON.parse(out) as Record<string, JsonValue>;
    expect(spec).not.toHaveProperty('extends');
    const refilled = fillDefaults(fromValue(spec, { file: 'emitted.json', start: 0, end: 0 }));
    expect(refilled.defaulted).toEqual([]);
    // Semantic defaults are there too.
    expect(spec).toMatchObject({
      name: 'self_mm_mosi',
      eval: { metrics: 'mosi', head: 'M' },
      modalities: { audio: { lengths: 'audio_lengths', aligned: false, preprocess: { neg_inf_to_zero: true } } },
      train: { select: { mode: 'min' }, early_stop: { mode: 'min' } },
    });
    expect(spec).toEqual(JSON.parse(JSON.stringify(compileFile(join(repoRoot, 'pipelines/self_mm_mosi.yaml'), { env: {} }).spec)));
  });

  it('is deterministic', async () => {
    for (const f of ['pipelines/lmf_sims.yaml', 'pipelines/demo_self_mm.yaml']) {
      const a = await emit(f);
      const b = await emit(f);
      expect(a.out).toBe(b.out);
      const ir1 = await emit(f, 'ir');
      const ir2 = await emit(f, 'ir');
      expect(ir1.out).toBe(ir2.out);
      expect(ir1.out).not.toContain(repoRoot); // paths are relative to cwd
    }
  });
});

describe('I/O problems of files a spec names', () => {
  it('reports a custom dataset manifest that is a directory as MSA1004 instead of throwing', () => {
    write('io/data/manifest-dir.dataset.yaml/.keep', '');
    const f = write('io/spec.yaml', MINIMAL.replace('{name: mosi, file: unaligned_50}', '{path: ./data/x.pkl, manifest: ./data/manifest-dir.dataset.yaml}'));
    const r = compile(f);
    expect(codes(r)).toEqual(['MSA1004']);
  });
});
