// Running MMSA's own code (the reference) in the same session as mmsa's benchmark, shared by bench/bert.mjs and
// bench/train.mjs: the reference runner (run_mmsa_baseline.py, passed by path in MMSA_REFERENCE_RUNNER, with MMSA's
// src/ in MMSA_SRC) or a project tool that wraps it (tools/run-mmsa-reference.py, tools/run-mmsa-small-bert.py), always
// under `prlimit --as` (BENCH_REF_CAP bytes) and `/usr/bin/time -f %M` (its peak RSS), its figures read back from the
// runner's summary.json. Also the other processes' load meter mmsa's side uses.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The reference's address-space cap when BENCH_REF_CAP is not set (bytes). */
export const DEFAULT_REF_CAP = '8000000000';

/**
 * Where the reference runs from, read from `env`: the runner's path, MMSA's src/, the python with torch, the cap and
 * the in-process patches BENCH_REF_PATCH names (comma-separated, for the project tools that wrap the runner:
 * tools/run-mmsa-reference.py and tools/run-mmsa-small-bert.py; e.g. detached_cpu, which times MISA's, MMIM's, BERT-MAG's and
 * TETFN's whole 12-layer epochs that do not fit as shipped); or `{ skipped }` saying which variable is missing.
 */
export function referenceSetup(env = process.env) {
  const runner = env.MMSA_REFERENCE_RUNNER;
  if (!runner) return { skipped: 'MMSA_REFERENCE_RUNNER is not set (the path of run_mmsa_baseline.py)' };
  if (!existsSync(runner)) return { skipped: `${runner} not found (MMSA_REFERENCE_RUNNER)` };
  if (!env.MMSA_SRC) return { skipped: "MMSA_SRC is not set (MMSA's src/ directory, which the runner imports)" };
  const patches = (env.BENCH_REF_PATCH ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return { runner, runnerDir: dirname(runner), python: env.BENCH_PYTHON ?? 'python3', cap: env.BENCH_REF_CAP ?? DEFAULT_REF_CAP, patches };
}

/**
 * prlimit's arguments for one reference run: `script` (the runner or a tool wrapping it) under the address-space cap,
 * with /usr/bin/time writing the peak RSS (KiB) to `rssFile`. `maxEpochs` 0 (or null) trains to MMSA's early stop;
 * `threads` undefined leaves torch's default; `args` are further runner arguments (--text, --seed, ...); `patches` are
 * passed as `--patch NAME` each, which only the project's wrapping tools take (the runner itself refuses them, so
 * asking for a patch with the bare runner is an error rather than a run that silently goes unpatched).
 */
export function referenceArgs({ cap, rssFile, python, script, model, dataset, pkl, maxEpochs, config = {}, args = [], out, threads, patches = [] }) {
  if (patches.length && !/run-mmsa-(reference|small-bert)\.py$/.test(script)) {
    throw new Error(`BENCH_REF_PATCH (${patches.join(', ')}) needs tools/run-mmsa-reference.py or tools/run-mmsa-small-bert.py; ${script} runs MMSA unpatched`);
  }
  return [
    `--as=${cap}`, '/usr/bin/time', '-f', '%M', '-o', rssFile, python, script,
    '--model', model, '--dataset', dataset, '--pkl', pkl, '--max-epochs', String(maxEpochs ?? 0),
    ...args, ...patches.flatMap((p) => ['--patch', p]), ...(Object.keys(config).length ? ['--config', JSON.stringify(config)] : []),
    '--out', out, ...(threads ? ['--threads', String(threads)] : []),
  ];
}

/** Mean of the epochs after the first when there are two or more (the first carries one-off costs), else of all. */
export function steadyMean(xs) {
  const steady = xs.length > 1 ? xs.slice(1) : xs;
  return steady.length ? steady.reduce((a, b) => a + b, 0) / steady.length : NaN;
}

/**
 * The figures of the runner's summary.json for a run at `batch` samples per batch: per epoch (train + validation,
 * start of one training pass to the next, summed over the epoch's passes), the training seconds of each epoch and of
 * each pass, per batch of the training split (wall and the process's own CPU seconds, all of an epoch's passes), the
 * other processes' cores during the training passes, and the steady means of each (epochs after the first).
 */
export function summarize(s, batch) {
  const batches = Math.ceil(s.sizes.train / batch);
  // A trainer may run several training passes an epoch (MMIM: its mmilb stage, then the main one, each over the whole
  // training split); the runner times each pass, so an epoch's figures are the sums over its passes.
  const n = s.train_pass_s.length;
  const passes = s.epochs > 0 && n > s.epochs && n % s.epochs === 0 ? n / s.epochs : 1;
  const perEpoch = (xs, f) => Array.from({ length: Math.ceil(xs.length / passes) }, (_, i) => f(xs.slice(i * passes, (i + 1) * passes)));
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const mean = (xs) => sum(xs) / xs.length;
  const trainSecs = perEpoch(s.train_pass_s, sum);
  const epochSecs = perEpoch(s.epoch_wall_s, sum);
  const cpuPerBatch = perEpoch(s.own_cpu_s_train_passes, sum).map((c) => c / batches);
  const otherLoad = perEpoch(s.other_procs_avg_cores_train_passes, mean);
  return {
    batch,
    batches,
    passesPerEpoch: passes,
    epochs: s.epochs,
    epochSecs,
    trainSecs,
    trainPassSecs: s.train_pass_s,
    validPassSecs: s.valid_pass_s ?? [],
    cpuPerBatch,
    otherLoad,
    steady: {
      epochSecs: steadyMean(epochSecs),
      secsPerBatch: steadyMean(trainSecs) / batches,
      cpuPerBatch: steadyMean(cpuPerBatch),
      otherLoad: steadyMean(otherLoad),
    },
    threads: s.torch_threads_used,
    torch: s.torch,
    params: s.n_params,
    test: s.test,
  };
}

/** The peak RSS in bytes /usr/bin/time wrote (its last line, KiB), NaN when there is none. */
export function readPeakRss(rssFile) {
  if (!existsSync(rssFile)) return NaN;
  const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
  return Number.isFinite(kib) ? kib * 1024 : NaN;
}

/**
 * Runs the reference once (`setup` from referenceSetup; the rest as referenceArgs takes, with `out` its output dir and
 * `env` its environment) and returns summarize()'s figures with its peak RSS, or `{ skipped }` with the reason and the
 * last lines of its stderr when it failed.
 */
export function runReference(setup, { script, model, dataset, pkl, batch, maxEpochs, config, args, out, threads, env = process.env }) {
  if (setup.skipped) return { skipped: setup.skipped };
  const rssFile = `${out}.rss`;
  const argv = referenceArgs({ cap: setup.cap, rssFile, python: setup.python, script: script ?? setup.runner, model, dataset, pkl, maxEpochs, config, args, out, threads, patches: setup.patches });
  const r = spawnSync('prlimit', argv, { encoding: 'utf8', env: { ...env, MMSA_RUNNER: setup.runnerDir }, maxBuffer: 64 << 20 });
  const peakRssBytes = readPeakRss(rssFile);
  if (r.status !== 0 || !existsSync(join(out, 'summary.json'))) {
    const tail = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return { skipped: `the reference failed (exit ${r.status ?? r.signal}; peak RSS ${(peakRssBytes / 1e9).toFixed(2)} GB): ${tail}` };
  }
  return { ...summarize(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), batch), peakRssBytes };
}

/** Busy cores of other processes between two snapshots (from /proc/stat minus this process's CPU time). */
export function loadMeter() {
  const snap = () => {
    let busy = 0;
    try {
      const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      busy = (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4]) / 100;
    } catch {
      busy = NaN;
    }
    const u = process.cpuUsage();
    return { t: performance.now() / 1000, busy, own: (u.user + u.system) / 1e6 };
  };
  const a = snap();
  return () => {
    const b = snap();
    return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.t - a.t));
  };
}
