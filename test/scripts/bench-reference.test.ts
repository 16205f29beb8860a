// bench/reference.mjs, the benchmarks' way of running MMSA's own code in the same session: which environment it needs,
// the command it runs (prlimit's cap, /usr/bin/time's peak RSS, the runner's arguments), how it reads the runner's
// summary.json (the steady epochs after the first, CPU seconds per training batch) and a failed run; and which of
// tools/run-mmsa-reference.py's in-process patches each MMSA model gets. No torch is run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_REF_CAP, referenceArgs, referenceSetup, runReference, steadyMean, summarize } from '../../bench/reference.mjs';
import { packageRoot } from '../../src/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'mmsa-bench-reference-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('referenceSetup', () => {
  const runner = join(tmp, 'run_mmsa_baseline.py');
  writeFileSync(runner, '');

  it('names the variable that is missing, and the runner path that does not exist', () => {
    expect(referenceSetup({})).toEqual({ skipped: expect.stringMatching(/^MMSA_REFERENCE_RUNNER is not set/) });
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: join(tmp, 'nope.py'), MMSA_SRC: tmp })).toEqual({ skipped: `${join(tmp, 'nope.py')} not found (MMSA_REFERENCE_RUNNER)` });
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: runner })).toEqual({ skipped: expect.stringMatching(/^MMSA_SRC is not set/) });
  });

  it('takes the python and the cap from the environment, with python3 and 8 GB by default', () => {
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: runner, MMSA_SRC: tmp })).toEqual({ runner, runnerDir: tmp, python: 'python3', cap: '8000000000', patches: [] });
    expect(DEFAULT_REF_CAP).toBe('8000000000');
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: runner, MMSA_SRC: tmp, BENCH_PYTHON: '/usr/bin/python3', BENCH_REF_CAP: '4000000000' })).toMatchObject({ python: '/usr/bin/python3', cap: '4000000000' });
  });

  it('reads the in-process patches BENCH_REF_PATCH names, comma-separated', () => {
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: runner, MMSA_SRC: tmp, BENCH_REF_PATCH: 'detached_cpu, mctn_seq2seq_on_cpu' })).toMatchObject({ patches: ['detached_cpu', 'mctn_seq2seq_on_cpu'] });
    expect(referenceSetup({ MMSA_REFERENCE_RUNNER: runner, MMSA_SRC: tmp, BENCH_REF_PATCH: '' })).toMatchObject({ patches: [] });
  });
});

describe('referenceArgs', () => {
  const base = { cap: '8000000000', rssFile: '/w/rss', python: 'py', script: '/t/run-mmsa-reference.py', model: 'mctn', dataset: 'mosi', pkl: '/d/aligned_50.pkl', out: '/w/out' };

  it("runs the script under prlimit's address-space cap and /usr/bin/time's peak RSS, with the runner's arguments", () => {
    expect(referenceArgs({ ...base, maxEpochs: 2, args: ['--seed', '1111'], threads: 1 })).toEqual([
      '--as=8000000000', '/usr/bin/time', '-f', '%M', '-o', '/w/rss', 'py', '/t/run-mmsa-reference.py',
      '--model', 'mctn', '--dataset', 'mosi', '--pkl', '/d/aligned_50.pkl', '--max-epochs', '2', '--seed', '1111',
      '--out', '/w/out', '--threads', '1',
    ]);
  });

  it('passes each patch to the tools that wrap the runner, and refuses patches for the bare runner', () => {
    const a = referenceArgs({ ...base, maxEpochs: 1, patches: ['detached_cpu', 'mctn_seq2seq_on_cpu'] });
    expect(a.slice(16)).toEqual(['--patch', 'detached_cpu', '--patch', 'mctn_seq2seq_on_cpu', '--out', '/w/out']);
    const small = referenceArgs({ ...base, script: '/t/run-mmsa-small-bert.py', maxEpochs: 1, patches: ['detached_cpu'] });
    expect(small).toContain('--patch');
    expect(() => referenceArgs({ ...base, script: '/r/run_mmsa_baseline.py', maxEpochs: 1, patches: ['detached_cpu'] })).toThrow(/BENCH_REF_PATCH \(detached_cpu\) needs tools\/run-mmsa-reference\.py/);
    expect(referenceArgs({ ...base, script: '/r/run_mmsa_baseline.py', maxEpochs: 1 })).not.toContain('--patch');
  });

  it('passes config overrides as JSON, trains to early stopping without an epoch cap and leaves torch its threads', () => {
    const a = referenceArgs({ ...base, maxEpochs: null, config: { batch_size: 32 }, args: ['--text', 'features'] });
    expect(a.slice(8)).toEqual(['--model', 'mctn', '--dataset', 'mosi', '--pkl', '/d/aligned_50.pkl', '--max-epochs', '0', '--text', 'features', '--config', '{"batch_size":32}', '--out', '/w/out']);
  });
});

/** A summary.json as the reference runner writes it (its field names; figures of a 3-epoch run at batch 32). */
const summary = {
  model: 'mctn',
  epochs: 3,
  sizes: { train: 1284, valid: 229, test: 686 },
  torch: '1.13.0',
  torch_threads_used: 1,
  n_params: 123456,
  train_pass_s: [50, 40, 44],
  valid_pass_s: [3, 2, 2],
  epoch_wall_s: [60, 45, 47],
  own_cpu_s_train_passes: [41.28, 36.12, 38.7],
  other_procs_avg_cores_train_passes: [1.2, 1.5, 1.7],
  test: { Corr: 0.5 },
};

describe('summarize', () => {
  it('takes the epochs after the first, as mmsa\'s figure is taken, and divides by the batches of the training split', () => {
    const s = summarize(summary, 32);
    // 1284 samples at 32: 41 batches, the last one short.
    expect(s.batches).toBe(41);
    expect(s.steady.epochSecs).toBe(46);
    expect(s.steady.secsPerBatch).toBeCloseTo(42 / 41, 12);
    expect(s.cpuPerBatch).toEqual([41.28 / 41, 36.12 / 41, 38.7 / 41]);
    expect(s.steady.cpuPerBatch).toBeCloseTo((36.12 + 38.7) / 2 / 41, 12);
    expect(s.steady.otherLoad).toBeCloseTo(1.6, 12);
    expect(s).toMatchObject({ epochs: 3, threads: 1, torch: '1.13.0', params: 123456, validPassSecs: [3, 2, 2], test: { Corr: 0.5 } });
  });

  it('sums the passes of an epoch where the trainer runs several (MMIM: its mmilb stage, then the main one)', () => {
    // Two epochs of two passes each, as the runner records MMIM's: one entry per pass.
    const two = { ...summary, epochs: 2, train_pass_s: [20, 30, 22, 28], valid_pass_s: [3, 2], epoch_wall_s: [21, 32, 23, 29], own_cpu_s_train_passes: [10, 20, 12, 18], other_procs_avg_cores_train_passes: [1, 2, 1.5, 1.5] };
    const s = summarize(two, 32);
    expect(s.passesPerEpoch).toBe(2);
    expect(s.trainSecs).toEqual([50, 50]);
    expect(s.epochSecs).toEqual([53, 52]);
    expect(s.cpuPerBatch).toEqual([30 / 41, 30 / 41]);
    expect(s.steady).toEqual({ epochSecs: 52, secsPerBatch: 50 / 41, cpuPerBatch: 30 / 41, otherLoad: 1.5 });
    // One pass an epoch: the passes are the epochs.
    expect(summarize(summary, 32).passesPerEpoch).toBe(1);
  });

  it('uses the only epoch when there is one', () => {
    const one = { ...summary, sizes: { train: 1280, valid: 229, test: 686 }, epochs: 1, train_pass_s: [50], valid_pass_s: [3], epoch_wall_s: [60], own_cpu_s_train_passes: [41], other_procs_avg_cores_train_passes: [1.2] };
    expect(summarize(one, 128).steady).toEqual({ epochSecs: 60, secsPerBatch: 5, cpuPerBatch: 4.1, otherLoad: 1.2 });
    expect(steadyMean([])).toBeNaN();
  });
});

/** Whether each command answers `--version` here. */
const runs = (...cmds: string[]) => cmds.every((c) => {
  try {
    execFileSync(c, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const hasTools = existsSync('/usr/bin/time') && runs('prlimit', 'python3');

describe.skipIf(!hasTools)('runReference', () => {
  it('reports a run that fails with its exit code, its peak RSS and the end of its stderr', () => {
    const runner = join(tmp, 'run_mmsa_baseline.py');
    writeFileSync(runner, '');
    const failing = join(tmp, 'fails.py');
    writeFileSync(failing, 'import sys\nsys.exit("MMSA could not start: no such model")\n');
    const r = runReference(referenceSetup({ MMSA_REFERENCE_RUNNER: runner, MMSA_SRC: tmp }), { script: failing, model: 'x', dataset: 'mosi', pkl: join(tmp, 'f.pkl'), batch: 32, maxEpochs: 1, out: join(tmp, 'out') });
    expect(r).toEqual({ skipped: expect.stringMatching(/^the reference failed \(exit 1; peak RSS 0\.0\d GB\): .*MMSA could not start: no such model$/) });
  });
});

const hasPython = runs('python3');

describe.skipIf(!hasPython)('tools/run-mmsa-reference.py', () => {
  it('patches MCTN, MulT, CENET and ALMT, each with its own patch, and no other model', () => {
    const tool = join(packageRoot(), 'tools', 'run-mmsa-reference.py');
    const code = `
import importlib.util, json
spec = importlib.util.spec_from_file_location("t", ${JSON.stringify(tool)})
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
print(json.dumps({m: t.patches_for(m) for m in ["mctn", "mult", "cenet", "almt", "lmf", "self_mm", "mfn"]}))`;
    expect(JSON.parse(execFileSync('python3', ['-c', code], { encoding: 'utf8' }))).toEqual({
      mctn: ['mctn_seq2seq_on_cpu'],
      mult: ['detached_cpu'],
      cenet: ['do_test_accepts_return_sample_results'],
      almt: ['do_test_accepts_return_sample_results'],
      lmf: [],
      self_mm: [],
      mfn: [],
    });
  });

  it('takes --patch NAME off the runner\'s arguments and refuses a name it does not know', () => {
    const tool = join(packageRoot(), 'tools', 'run-mmsa-reference.py');
    const load = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("t", ${JSON.stringify(tool)})
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)`;
    const ok = `${load}
argv = ["run", "--model", "misa", "--patch", "detached_cpu", "--seed", "1111"]
print(json.dumps([t.take_patches(argv), argv]))`;
    expect(JSON.parse(execFileSync('python3', ['-c', ok], { encoding: 'utf8' }))).toEqual([['detached_cpu'], ['run', '--model', 'misa', '--seed', '1111']]);
    const bad = `${load}
t.take_patches(["run", "--patch", "no_such_patch"])`;
    const r = spawnSync('python3', ['-c', bad], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--patch must name one of: mctn_seq2seq_on_cpu, detached_cpu');
  });
});
