// Wrong data never becomes a result: NaN/inf in features or labels, empty splits, impossible lengths and exploding
// nested lists in MMSA-layout feature files built here are refused at load (file, split, key, sample, position), in
// a capped child; a run whose loss goes NaN ends `failed` naming the step and the head. Phases 7 (data, training).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Ir } from '../../src/compiler/ir/types.js';
import { customDataset, makeIr, sims, type ModalityInput } from '../runtime/data/data-test-helpers.js';
import { PickleBuilder, repoRoot, runCapped, tempDir, type ChildOutcome } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const N = { train: 8, valid: 4, test: 4 } as const;
const T = 20;
const A = 33;
const V = 9;
const VD = 709;

type Split = keyof typeof N;
interface Arr {
  shape: number[];
  values: Float32Array;
}
type Value = Arr | string[] | ((p: PickleBuilder) => void);

/** A clean SIMS-like split: audio [n, 20, 33] with lengths, vision [n, 9, 709] with lengths, labels, ids. */
function cleanSplit(split: Split, n: number = N[split]): Record<string, Value> {
  const seed = split.length;
  const fill = (k: number, f: (i: number) => number) => Float32Array.from({ length: k }, (_, i) => f(i));
  return {
    id: Array.from({ length: n }, (_, i) => `${split}_clip_${i}`),
    audio: { shape: [n, T, A], values: fill(n * T * A, (i) => Math.sin(i * 0.37 + seed)) },
    audio_lengths: { shape: [n], values: fill(n, (i) => 10 + (i % 10)) },
    vision: { shape: [n, V, VD], values: fill(n * V * VD, (i) => Math.cos(i * 0.11 + seed)) },
    vision_lengths: { shape: [n], values: fill(n, (i) => 1 + (i % V)) },
    regression_labels: { shape: [n], values: fill(n, (i) => ((i % 7) - 3) / 3) },
  };
}

function writeFeatureFile(name: string, edit: (splits: Record<Split, Record<string, Value>>) => void = () => {}): string {
  const splits = { train: cleanSplit('train'), valid: cleanSplit('valid'), test: cleanSplit('test') };
  edit(splits);
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  for (const [split, keys] of Object.entries(splits)) {
    p.str(split).emptyDict().mark();
    for (const [k, v] of Object.entries(keys)) {
      p.str(k);
      if (typeof v === 'function') v(p);
      else if (Array.isArray(v)) {
        p.emptyList().mark();
        for (const s of v) p.str(s);
        p.appends();
      } else p.f32(v.shape, v.values);
    }
    p.setitems();
  }
  const file = join(tmp.dir, name);
  writeFileSync(file, p.setitems().stop());
  return file;
}

function irFor(file: string, modalities: Record<string, ModalityInput> = { audio: { feature: 'audio' }, vision: { feature: 'vision' } }): Ir {
  const feats = sims();
  return makeIr(customDataset(file, feats, { M: 'regression_labels' }), modalities);
}

function load(ir: Ir): ChildOutcome<{ n: Record<string, number> }> {
  return runCapped(
    `const { loadDataset } = await mod('runtime/data/load-dataset.js');
     const d = await loadDataset(input.ir);
     return { n: { train: d.train.n, valid: d.valid.n, test: d.test.n } };`,
    { ir },
  );
}

function at(a: Arr, idx: number[], v: number): void {
  let flat = 0;
  for (let k = 0; k < idx.length; k++) flat = flat * a.shape[k]! + idx[k]!;
  a.values[flat] = v;
}

function expectLoadError(r: ChildOutcome<unknown>, code: string): NonNullable<ChildOutcome<unknown>['error']> {
  expect(r.crash).toBeUndefined();
  expect(r.value).toBeUndefined();
  expect(r.error?.code).toBe(code);
  expect(r.peakRssMiB).toBeLessThan(400);
  return r.error!;
}

describe('non-finite values are refused at load, where they are', () => {
  it('the clean file loads', () => {
    const r = load(irFor(writeFeatureFile('clean.pkl')));
    expect(r.error).toBeUndefined();
    expect(r.value).toEqual({ n: { train: 8, valid: 4, test: 4 } });
  });

  it('one NaN in audio names file, split, key, sample (with id) and position', () => {
    const file = writeFeatureFile('nan-audio.pkl', (s) => at(s.train['audio'] as Arr, [3, 5, 2], NaN));
    const e = expectLoadError(load(irFor(file)), 'MSA6025');
    expect(e.message).toContain(file);
    expect(e.message).toContain("split 'train', key 'audio'");
    expect(e.message).toContain('NaN in sample 3 (id "train_clip_3") at [5, 2]');
    expect(e.details).toMatchObject({ split: 'train', key: 'audio', sample: 3, position: [5, 2], value: 'NaN', count: 1 });
  });

  it("-inf in audio is MMSA's documented padding and becomes 0; -inf in vision is refused with the fix", () => {
    const ok = writeFeatureFile('neginf-audio.pkl', (s) => at(s.valid['audio'] as Arr, [1, 0, 0], -Infinity));
    expect(load(irFor(ok)).value).toEqual({ n: { train: 8, valid: 4, test: 4 } });
    const bad = writeFeatureFile('neginf-vision.pkl', (s) => at(s.test['vision'] as Arr, [2, 8, 708], -Infinity));
    const e = expectLoadError(load(irFor(bad)), 'MSA6025');
    expect(e.message).toContain("split 'test', key 'vision'");
    expect(e.message).toContain('-inf in sample 2 (id "test_clip_2") at [8, 708]');
    expect(e.hint).toContain('neg_inf_to_zero: true');
  });

  it('+inf in audio survives the -inf cleaning and is refused', () => {
    const file = writeFeatureFile('posinf-audio.pkl', (s) => at(s.train['audio'] as Arr, [0, 19, 32], Infinity));
    const e = expectLoadError(load(irFor(file)), 'MSA6025');
    expect(e.message).toContain('+inf in sample 0 (id "train_clip_0") at [19, 32] after -inf was set to 0');
  });

  it('with time_mean, NaN is cleaned after the mean (as MMSA does) but inf is refused at its step in the file', () => {
    const mods = { vision: { feature: 'vision', preprocess: { time_mean: true } } };
    const nan = writeFeatureFile('nan-vision-mean.pkl', (s) => at(s.train['vision'] as Arr, [1, 4, 7], NaN));
    expect(load(irFor(nan, mods)).value).toEqual({ n: { train: 8, valid: 4, test: 4 } });
    const inf = writeFeatureFile('inf-vision-mean.pkl', (s) => at(s.train['vision'] as Arr, [1, 4, 7], Infinity));
    const e = expectLoadError(load(irFor(inf, mods)), 'MSA6025');
    expect(e.message).toContain('+inf in sample 1 (id "train_clip_1") at [4, 7]');
    expect(e.message).toContain('survives the time mean');
  });

  it('a NaN label is refused with its sample', () => {
    const file = writeFeatureFile('nan-label.pkl', (s) => at(s.valid['regression_labels'] as Arr, [2], NaN));
    const e = expectLoadError(load(irFor(file)), 'MSA6025');
    expect(e.message).toContain("split 'valid', key 'regression_labels': label 'M' holds NaN in sample 2 (id \"valid_clip_2\")");
  });
});

describe('empty splits', () => {
  for (const split of ['train', 'valid', 'test'] as const) {
    it(`an empty ${split} split is refused`, () => {
      const file = writeFeatureFile(`empty-${split}.pkl`, (s) => {
        s[split] = cleanSplit(split, 0);
      });
      const e = expectLoadError(load(irFor(file)), 'MSA6027');
      expect(e.message).toContain(`split '${split}' has no samples`);
    });
  }
});

describe('sequence lengths', () => {
  const withLength = (name: string, v: number) => writeFeatureFile(name, (s) => at(s.train['audio_lengths'] as Arr, [4], v));

  it(`a length equal to the ${T} steps loads; ${T + 1} is refused`, () => {
    expect(load(irFor(withLength('len-max.pkl', T))).value).toEqual({ n: { train: 8, valid: 4, test: 4 } });
    const e = expectLoadError(load(irFor(withLength('len-over.pkl', T + 1))), 'MSA6028');
    expect(e.message).toContain(`split 'train', key 'audio_lengths': the length of sample 4 (id "train_clip_4") is ${T + 1}, longer than the ${T} steps the feature has`);
  });

  for (const [what, v, text] of [['fractional', 3.5, 'is fractional (3.5)'], ['negative', -1, 'is negative (-1)'], ['NaN', NaN, 'is NaN']] as const) {
    it(`a ${what} length is refused, not truncated`, () => {
      const e = expectLoadError(load(irFor(withLength(`len-${what}.pkl`, v))), 'MSA6028');
      expect(e.message).toContain(`the length of sample 4 (id "train_clip_4") ${text}`);
    });
  }
});

describe('exploding nested lists inside a valid feature file', () => {
  it('12 KB of shared lists as the audio key fail with a located MSA6024 in bounded memory (were 4.7 GB)', () => {
    // audio = L9 where L0 = [0.0] * 33, L(k+1) = [Lk] * 20 (memo GETs): 20^9 * 33 floats from a few KB.
    const shared = (p: PickleBuilder) => {
      p.emptyList().mark();
      for (let i = 0; i < A; i++) p.float(0);
      p.appends().put(200).pop();
      for (let level = 1; level <= 9; level++) {
        p.emptyList().mark();
        for (let i = 0; i < (level === 9 ? N.train : T); i++) p.get(199 + level);
        p.appends().put(200 + level);
        if (level < 9) p.pop();
      }
    };
    const file = writeFeatureFile('shared-lists.pkl', (s) => {
      s.train['audio'] = shared;
    });
    const e = expectLoadError(load(irFor(file)), 'MSA6024');
    expect(e.message).toContain("split 'train', key 'audio'");
    expect(e.message).toContain('shared sub-lists expand to');
  });

  const deepLists = (levels: number) => (p: PickleBuilder) => {
    for (let i = 0; i < levels; i++) p.emptyList();
    for (let i = 0; i < levels - 1; i++) p.append();
  };

  it('lists nested more than 32 levels are refused as such; 32 levels are read (and then do not fit the shape)', () => {
    const over = writeFeatureFile('deep-lists-33.pkl', (s) => {
      s.train['audio'] = deepLists(33);
    });
    expect(expectLoadError(load(irFor(over)), 'MSA6024').message).toContain('lists nested more than 32 levels deep');
    const at32 = writeFeatureFile('deep-lists-32.pkl', (s) => {
      s.train['audio'] = deepLists(32);
    });
    const e = expectLoadError(load(irFor(at32)), 'MSA6021');
    expect(e.message).toContain("split 'train', key 'audio'");
    expect(e.message).not.toContain('levels deep');
  });
});

describe('a loss that becomes NaN', () => {
  it('stops the run with a failed status naming the step and the head (exit 1)', () => {
    const dir = join(tmp.dir, 'nan-run');
    const spec = join(tmp.dir, 'nan_loss.yaml');
    writeFileSync(
      spec,
      [
        'version: 1',
        'extends: lf_dnn',
        'dataset: {type: synthetic, like: sims, n_train: 32, n_valid: 8, n_test: 8, seed: 4}',
        'encoders:',
        '  audio: {type: subnet, hidden: 8}',
        '  vision: {type: subnet, hidden: 8}',
        '  text: {type: text_lstm, hidden: 8, out: 8}',
        'heads:',
        '  M: {type: regression, input: fusion, hidden: [8]}',
        'train:',
        '  batch_size: 8',
        '  max_epochs: 2',
        '  optimizer: {type: adam, groups: [{name: all, params: ["*"], lr: 1.0e+30}]}',
        'eval: {metrics: sims, head: M}',
        'seeds: [1111]',
        '',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/mmsa.js'), 'run', spec, '--reporter', 'plain', '--out', dir, '--backend', 'cpu'], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error MSA6707: the training loss became [^\n]* at epoch 1, step \d+: head 'M'/);
    const runDir = join(dir, 'nan_loss', readdirSync(join(dir, 'nan_loss'))[0]!);
    const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as { status: string; error?: { code: string; message: string } };
    expect(manifest.status).toBe('failed');
    expect(manifest.error?.code).toBe('MSA6707');
    expect(existsSync(join(runDir, 'results.json'))).toBe(false);
  });
});
