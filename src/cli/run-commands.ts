// `mmsa run` and `mmsa predict`: compile (diagnostics like `mmsa check`), then load the tfjs runtime lazily (dynamic
// import, so `check`/`plan` never pull in tfjs), train or predict, report events. Exit codes: 0 ok, 1 failed,
// 2 usage, 74 output not writable (disk full, read-only), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.

import { existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { compileFileAsync, type CompileResult } from '../compiler/compile.js';
import { hasErrors, type Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { SourceHost } from '../compiler/source/source-file.js';
import { MmsaError } from '../errors.js';
import type { BackendName } from '../runtime/backend.js';
import { BACKEND_NAMES, isBackendName } from '../runtime/run-types.js';
import type { NativeMode } from '../runtime/native.js';
import type { RunEvent } from '../runtime/events.js';
import { EXIT_IO, isOutputError, NO_SPACE, NOT_WRITABLE } from '../runtime/fs-errors.js';
import { assertRunDir, jsonReplacer, lockSpecPath, readJson, readManifest, settleOpenRunDirs, writeFileAtomic, type LockFile } from '../runtime/run-dir.js';
import type { RunOptions } from '../runtime/run.js';
import { judgeRun, type RunState } from '../runtime/run-liveness.js';
import { readCheckpoint, recoverCheckpoint } from '../runtime/train/checkpoint.js';
import type { Ir } from '../compiler/ir/types.js';
import type { LoadedDataset, SplitData } from '../runtime/data/types.js';
import type { LoweredPipeline } from '../runtime/lower/types.js';
import { createNdjsonReporter } from '../report/ndjson-reporter.js';
import { createPlainReporter, type Reporter } from '../report/plain-reporter.js';
import type { Io } from './main.js';
import { compileSpecValue } from '../tune/trial-spec.js';
import type { JsonValue } from '../compiler/spec/spec-tree.js';
import { parseSets, resolveModelDataset, resolveSpecArg, type ResolvedSpec } from './resolve-spec.js';

export interface RunCommandOptions {
  /** `1,2,3`, repeated `-s` values (each may be a list), or numbers. */
  seeds?: string | string[] | number[];
  /** MMSA's `-m MODEL -d DATASET`: the shipped paper config (instead of a file). */
  model?: string;
  dataset?: string;
  /** `--set KEY=VALUE` overrides of spec keys (recorded in the lock file). */
  set?: string[];
  maxEpochs?: string | number;
  backend?: BackendName;
  /** --native auto|on|off and --threads N (mmsa's native kernels under wasm). */
  native?: string;
  threads?: string | number;
  /** Root of run directories (default ./runs). */
  out?: string;
  dataRoot?: string;
  force?: boolean;
  /** A reporter by name, or one made by the caller (the TUI, which `mmsa run` picks on a terminal). */
  reporter?: 'plain' | 'ndjson' | Reporter;
  /** External cancellation (tests, embedding); when given, no SIGINT handler is installed. */
  signal?: AbortSignal;
  /** Receives every event as well (embedding, tests). */
  onEvent?: (e: RunEvent) => void;
  /** Test seams passed through to the run. */
  runtime?: Pick<RunOptions, 'loadData' | 'lower' | 'batches'>;
}

export function printDiagnostics(ds: Diagnostic[], host: SourceHost, io: Io): void {
  const text = formatDiagnostics(ds, host, { cwd: io.cwd, color: io.isTTY && !io.env['NO_COLOR'] });
  if (text) io.err(text);
}

const isOutputCode = (code: string) => code === NO_SPACE || code === NOT_WRITABLE;

export function usage(io: Io, msg: string): number {
  io.err(`error: ${msg}\n`);
  return 2;
}

export function parseSeeds(v: string | string[] | number[] | undefined): number[] | undefined | Error {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  if (Array.isArray(v)) return parseSeeds(v.join(','));
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const seeds = parts.map(Number);
  if (parts.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) return new Error(`--seeds expects non-negative integers separated by commas (e.g. 1111,1112), got '${v}'`);
  return seeds;
}

function makeReporter(name: string | undefined, io: Io): Reporter | Error {
  if (name === undefined || name === 'plain') return createPlainReporter({ out: io.out, err: io.err });
  if (name === 'ndjson') return createNdjsonReporter({ out: io.out });
  return new Error(`--reporter must be plain or ndjson, got '${name}'`);
}

/**
 * Ctrl-C (SIGINT) and SIGTERM (a service manager, `kill`): the first asks the run to stop after the current step and
 * mark itself interrupted; the second marks the run interrupted and exits at once.
 */
function installSignals(io: Io): { signal: AbortSignal; received(): NodeJS.Signals | undefined; dispose(): void } {
  const ac = new AbortController();
  let first: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    const how = sig === 'SIGINT' ? 'Ctrl-C' : sig;
    if (ac.signal.aborted) {
      io.err(`\n${how} again: exiting now\n`);
      settleOpenRunDirs('interrupted', { code: 'MSA6744', message: `stopped by ${sig} during a training step` });
      process.exit(exitCodeOfSignal(sig));
    }
    first = sig;
    io.err(`\n${how}: stopping after the current step (${how} again to exit now)\n`);
    ac.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    received: () => first,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** 128 + the signal number, as shells report a process ended by it. */
function exitCodeOfSignal(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

/** The spec of `mmsa run [file] [-m MODEL -d DATASET]`, checked; the note says which file a name or -m/-d picked. */
export function resolveRunSpec(file: string | undefined, opts: Pick<RunCommandOptions, 'model' | 'dataset'>, io: Io): ResolvedSpec | Error {
  const byName = opts.model !== undefined || opts.dataset !== undefined;
  if (file !== undefined && byName) return new Error(`give a spec file or -m/-d, not both (got '${file}' and ${opts.model ? `-m ${opts.model}` : `-d ${opts.dataset}`})`);
  if (file !== undefined) return resolveSpecArg(file, io.cwd);
  if (byName) return resolveModelDataset(opts.model, opts.dataset, io.cwd);
  return new Error('mmsa run needs a spec: a file, a shipped pipeline name (e.g. lmf_mosi) or -m MODEL -d DATASET as in MMSA');
}

export async function runCommand(file: string | undefined, opts: RunCommandOptions, io: Io): Promise<number> {
  const spec = resolveRunSpec(file, opts, io);
  if (spec instanceof Error) return usage(io, spec.message);
  const sets = parseSets(opts.set);
  if (sets instanceof Error) return usage(io, sets.message);
  const seeds = parseSeeds(opts.seeds);
  if (seeds instanceof Error) return usage(io, seeds.message);
  let maxEpochs: number | undefined;
  if (opts.maxEpochs !== undefined) {
    maxEpochs = Number(opts.maxEpochs);
    if (!Number.isInteger(maxEpochs) || maxEpochs < 1) return usage(io, `--max-epochs expects a positive integer, got '${opts.maxEpochs}'`);
  }
  if (opts.backend !== undefined && !isBackendName(opts.backend)) return usage(io, `--backend must be one of ${BACKEND_NAMES.join(', ')}, got '${opts.backend}'`);
  const kernels = parseKernelOptions(opts);
  if (kernels instanceof Error) return usage(io, kernels.message);
  const reporter = typeof opts.reporter === 'object' ? opts.reporter : makeReporter(opts.reporter, io);
  if (reporter instanceof Error) return usage(io, reporter.message);

  const host = new SourceHost();
  const dataRoot = opts.dataRoot ? resolve(io.cwd, opts.dataRoot) : undefined;
  if (spec.note) io.err(`${spec.note}\n`);
  const compiled = await compileFileAsync(spec.path, { env: io.env, host, ...(dataRoot ? { dataRoot } : {}), ...(sets.length ? { set: sets } : {}) });
  if (compiled.diagnostics.length > 0) printDiagnostics(compiled.diagnostics, host, io);
  if (hasErrors(compiled.diagnostics) || !compiled.ir) return 1;

  // Announces the run (the reporter's header) before the runtime and tfjs load.
  const { startPipeline } = await import('../runtime/run-start.js');
  const sig = opts.signal ? undefined : installSignals(io);
  const signal = opts.signal ?? sig!.signal;
  try {
    const it = startPipeline(compiled, {
      outRoot: resolve(io.cwd, opts.out ?? 'runs'),
      ...(seeds ? { seeds } : {}),
      ...(maxEpochs !== undefined ? { maxEpochs } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...kernels,
      ...(dataRoot ? { dataRoot } : {}),
      ...(opts.force ? { force: true } : {}),
      signal,
      command: ['mmsa', 'run', ...(file !== undefined ? [file] : []), ...commandFlags(opts)],
      ...(sets.length ? { set: sets } : {}),
      ...(opts.runtime ?? {}),
    });
    let r = await it.next();
    while (!r.done) {
      reporter.onEvent(r.value);
      opts.onEvent?.(r.value);
      r = await it.next();
    }
    const outcome = r.value;
    if (outcome.status === 'interrupted') return exitCodeOfSignal(sig?.received() ?? 'SIGINT');
    if (outcome.status === 'completed') return 0;
    return outcome.error && isOutputCode(outcome.error.code) ? EXIT_IO : 1;
  } finally {
    reporter.close?.();
    sig?.dispose();
  }
}

function commandFlags(o: RunCommandOptions): string[] {
  const f: string[] = [];
  if (o.model !== undefined) f.push('-m', o.model);
  if (o.dataset !== undefined) f.push('-d', o.dataset);
  if (o.seeds !== undefined) f.push('--seeds', Array.isArray(o.seeds) ? o.seeds.join(',') : o.seeds);
  for (const s of o.set ?? []) f.push('--set', s);
  if (o.maxEpochs !== undefined) f.push('--max-epochs', String(o.maxEpochs));
  if (o.backend) f.push('--backend', o.backend);
  if (o.native) f.push('--native', o.native);
  if (o.threads !== undefined) f.push('--threads', String(o.threads));
  if (o.out) f.push('--out', o.out);
  if (o.dataRoot) f.push('--data-root', o.dataRoot);
  if (o.force) f.push('--force');
  if (typeof o.reporter === 'string') f.push('--reporter', o.reporter);
  return f;
}

/** --native / --threads, checked. */
export function parseKernelOptions(o: { native?: string; threads?: string | number }): { native?: NativeMode; threads?: number } | Error {
  const out: { native?: NativeMode; threads?: number } = {};
  if (o.native !== undefined) {
    if (!['auto', 'on', 'off'].includes(o.native)) return new Error(`--native must be auto, on or off, got '${o.native}'`);
    out.native = o.native as NativeMode;
  }
  if (o.threads !== undefined) {
    const n = Number(o.threads);
    if (!Number.isInteger(n) || n < 1 || n > 64) return new Error(`--threads expects an integer from 1 to 64, got '${o.threads}'`);
    out.threads = n;
  }
  return out;
}

export interface PredictCommandOptions {
  /** A feature file with the run's layout; default: the run's own dataset. */
  data?: string;
  split?: 'train' | 'valid' | 'test';
  /** .csv or .json; default CSV on stdout. */
  out?: string;
  /** Accept a run that did not complete (its best checkpoint so far). */
  unfinished?: boolean;
  dataRoot?: string;
  backend?: BackendName;
  native?: string;
  threads?: string | number;
}

/** Compiles a run's lock file (the normalized spec) as if it sat beside the original spec. */
export function compileLock(runDir: string, io: Io, opts: { dataRoot?: string } = {}): { compiled: CompileResult; lock: LockFile; host: SourceHost } {
  const lock = readJson<LockFile>(join(runDir, 'spec.lock.json'));
  const compiled = compileSpecValue(lock.spec as JsonValue, lockSpecPath(lock), { env: io.env, ...(opts.dataRoot ? { dataRoot: opts.dataRoot } : {}) });
  return { compiled, lock, host: compiled.host };
}

/** A trained run ready to score data: its IR (dataset pointed at --data when given), data, model with the best weights. */
export interface TrainedRun {
  dir: string;
  ir: Ir;
  data: LoadedDataset;
  pipeline: LoweredPipeline;
  runtime: typeof import('../runtime/train/evaluate.js');
  /** Chunks each evaluation batch runs in: train.micro_batches, or with auto the fewest whose evaluation fits the heap. */
  microBatches: number;
}

/**
 * Loads what `predict` and `evaluate` share: the run's lock file compiled as at training time, the data (the run's own
 * dataset, or `--data` in the same layout, of which only `split` has to exist), the backend the run used and the model
 * with its best checkpoint. Returns an exit code when diagnostics were printed.
 */
async function loadTrainedRun(runDir: string, opts: PredictCommandOptions, kernels: { native?: NativeMode; threads?: number }, io: Io): Promise<TrainedRun | number> {
  const dir = resolve(io.cwd, runDir);
  const split = opts.split ?? 'test';
  assertRunDir(dir);
  const state = checkFinished(dir, Boolean(opts.unfinished), io);
  // A writer killed inside a checkpoint swap leaves checkpoint/ missing with complete copies beside it (never
  // touched while the owner lives).
  if (state !== 'running') {
    const restored = recoverCheckpoint(join(dir, 'checkpoint'));
    if (restored) io.err(`note: restored ${join(dir, 'checkpoint')} from ${restored}, left by a writer that was killed while replacing it\n`);
  }
  if (!existsSync(join(dir, 'checkpoint', 'model.json'))) {
    throw new MmsaError('MSA6711', `${dir} has no checkpoint (checkpoint/model.json)`, { hint: 'the run ended before its first validation improvement; train it again with `mmsa run`' });
  }
  const dataRoot = opts.dataRoot ? resolve(io.cwd, opts.dataRoot) : undefined;
  const { compiled, host, lock } = compileLock(dir, io, dataRoot ? { dataRoot } : {});
  if (compiled.diagnostics.length > 0) printDiagnostics(compiled.diagnostics, host, io);
  if (hasErrors(compiled.diagnostics) || !compiled.ir) return 1;
  let ir = compiled.ir;
  // The weights the run trained from: a branch (main) may have moved since, the commit recorded in the lock has not.
  if (lock.pretrained) {
    const pins = lock.pretrained;
    ir = { ...ir, nodes: ir.nodes.map((n) => (pins[n.id]?.commit ? { ...n, config: { ...n.config, revision: pins[n.id]!.commit } } : n)) };
  }
  if (opts.data) {
    const path = resolve(io.cwd, opts.data);
    ir = { ...ir, dataset: { ...ir.dataset, source: 'custom', path, sha256: null } };
  }
  const manifest = readManifest(dir);
  const [{ setupBackend }, { loadDataset }, { lowerPipeline }, runtime, { planEvalMicroBatches }] = await Promise.all([
    import('../runtime/backend.js'),
    import('../runtime/data/load-dataset.js'),
    import('../runtime/lower/lower-pipeline.js'),
    import('../runtime/train/evaluate.js'),
    import('../runtime/memory/plan-memory.js'),
  ]);
  const backend = await setupBackend(opts.backend ?? (manifest?.backend as BackendName | undefined) ?? 'wasm', kernels);
  const microBatches = planEvalMicroBatches(ir, backend.details.tfBackend);
  // Modalities with normalize: standard are scaled with the statistics the run trained with (recorded in its manifest).
  const normalization = manifest?.dataset.normalization;
  const data = await loadDataset(ir, { ...(dataRoot ? { dataRoot } : {}), ...(opts.data ? { predictSplit: split } : {}), ...(normalization ? { normalization } : {}) });
  const ckpt = readCheckpoint(join(dir, 'checkpoint'));
  const pipeline = lowerPipeline(ir, { seed: manifest?.seed ?? 0, trainSize: Math.max(1, data.train.n) });
  try {
    pipeline.model.store.loadStateDict(ckpt.weights);
  } catch (e) {
    pipeline.optimizer.dispose();
    pipeline.model.dispose();
    throw new MmsaError('MSA6711', `checkpoint in ${dir} does not fit the model of its spec.lock.json: ${(e as Error).message}`, { hint: 'the run directory was edited or mixes files of different runs', cause: e });
  }
  return { dir, ir, data, pipeline, runtime, microBatches };
}

function checkScoringOptions(opts: PredictCommandOptions, io: Io, outExts: string[]): { native?: NativeMode; threads?: number } | number {
  const split = opts.split ?? 'test';
  if (!['train', 'valid', 'test'].includes(split)) return usage(io, `--split must be train, valid or test, got '${split}'`);
  if (opts.out && !outExts.includes(extname(opts.out).toLowerCase())) return usage(io, `--out must end in ${outExts.join(' or ')}, got '${opts.out}'`);
  const kernels = parseKernelOptions(opts);
  if (kernels instanceof Error) return usage(io, kernels.message);
  return kernels;
}

/** Loads the run, hands it to `score`, and frees the model whatever happens; MmsaErrors become exit code 1. */
async function withTrainedRun(runDir: string, opts: PredictCommandOptions, kernels: { native?: NativeMode; threads?: number }, io: Io, score: (run: TrainedRun) => number | Promise<number>): Promise<number> {
  try {
    const run = await loadTrainedRun(runDir, opts, kernels, io);
    if (typeof run === 'number') return run;
    try {
      return await score(run);
    } finally {
      run.pipeline.optimizer.dispose();
      run.pipeline.model.dispose();
    }
  } catch (e) {
    if (e instanceof MmsaError) {
      io.err(`${e.format()}\n`);
      return isOutputError(e) ? EXIT_IO : 1;
    }
    throw e;
  }
}

export async function predictCommand(runDir: string, opts: PredictCommandOptions, io: Io): Promise<number> {
  const split = opts.split ?? 'test';
  const kernels = checkScoringOptions(opts, io, ['.csv', '.json']);
  if (typeof kernels === 'number') return kernels;
  return withTrainedRun(runDir, opts, kernels, io, (run) => {
    const { ir, data, pipeline } = run;
    const { predictSplit, predictionsCsv, softmaxRow } = run.runtime;
    const { ids, predictions, outputs, labels } = predictSplit(ir, pipeline, data[split], { microBatches: run.microBatches });
    // Classification heads give one logit per class: the prediction is the class, with its softmax probabilities.
    const classes = (outputs[0]?.length ?? 1) > 1;
    const rows = ids.map((id, i) => ({
      id,
      prediction: predictions[i]!,
      label: labels ? labels[i]! : null,
      ...(classes ? { probabilities: softmaxRow(outputs[i]!) } : {}),
    }));
    const outCtx = { what: 'the predictions', elsewhere: 'pass another --out' };
    if (opts.out && extname(opts.out).toLowerCase() === '.json') {
      writeFileAtomic(resolve(io.cwd, opts.out), `${JSON.stringify(rows, jsonReplacer, 2)}\n`, outCtx);
    } else {
      const csv = predictionsCsv(ids, outputs, rows.map((r) => r.label));
      if (opts.out) writeFileAtomic(resolve(io.cwd, opts.out), csv, outCtx);
      else io.out(csv);
    }
    if (opts.out) io.err(`wrote ${rows.length} predictions (${split}) to ${opts.out}\n`);
    return 0;
  });
}

export interface EvaluateCommandOptions extends PredictCommandOptions {
  format?: 'text' | 'json';
  /** Robustness: `MOD=RATE,...` (rates may be ranges a:b:step), possibly repeated; and the perturbation seeds. */
  missing?: string | string[];
  noise?: string | string[];
  seeds?: string | string[];
}

/**
 * `mmsa evaluate RUN_DIR --data FILE`: the run's metrics (its metric set and Loss, as its test results) on labelled
 * data it was not trained on. The data passes through `perturb` before scoring: the place for robustness options
 * (missing modalities, noise) that score the same model on altered inputs.
 */
export async function evaluateCommand(runDir: string, opts: EvaluateCommandOptions, io: Io, perturb: ((split: SplitData) => SplitData)[] = []): Promise<number> {
  const split = opts.split ?? 'test';
  const format = opts.format ?? 'text';
  if (format !== 'text' && format !== 'json') return usage(io, `--format must be text or json, got '${String(format)}'`);
  const kernels = checkScoringOptions(opts, io, ['.json']);
  if (typeof kernels === 'number') return kernels;
  const robust = await import('./robustness-evaluate.js');
  const plan = robust.planRobustness(opts);
  if (plan instanceof Error) return usage(io, plan.message);
  return withTrainedRun(runDir, opts, kernels, io, (run) => {
    const { ir, data, pipeline } = run;
    if (plan) return robust.evaluateRobustness(run, plan, opts, io);
    let part = data[split];
    for (const p of perturb) part = p(part);
    if (Object.keys(part.labels).length === 0) {
      throw new MmsaError('MSA6706', `${opts.data ?? 'the dataset'}: split '${split}' has no labels to evaluate against`, {
        hint: `evaluation needs the label key the run was trained on (${Object.values(ir.dataset.labels).join(', ')}); for unlabelled data use \`mmsa predict\``,
      });
    }
    // New data is scored in file order: a fixed batching, so the same file gives the same Loss every time.
    const r = run.runtime.evaluateSplit(ir, pipeline, part, { seed: 0, epoch: 0, shuffle: false, microBatches: run.microBatches });
    const result = { runDir: run.dir, data: opts.data ? resolve(io.cwd, opts.data) : ir.dataset.path ?? ir.dataset.name, split, n: part.n, metrics: r.metrics };
    const w = Math.max(6, ...Object.keys(r.metrics).map((x) => x.length));
    const text =
      format === 'json'
        ? `${JSON.stringify(result, jsonReplacer, 2)}\n`
        : `${ir.pipeline} (${run.dir}) on ${result.data} [${split}, ${part.n} samples]\n${Object.entries(r.metrics)
            .map(([k, v]) => `  ${k.padEnd(w)}  ${Number.isFinite(v) ? v.toFixed(4) : 'nan'}`)
            .join('\n')}\n`;
    if (opts.out) {
      writeFileAtomic(resolve(io.cwd, opts.out), `${JSON.stringify(result, jsonReplacer, 2)}\n`, { what: 'the evaluation', elsewhere: 'pass another --out' });
      io.err(`wrote ${opts.out}\n`);
    }
    io.out(text);
    return 0;
  });
}

/**
 * A run that did not complete is predicted from only with --unfinished (its checkpoint is the best so far, not the
 * run's result); a run marked running whose owner is gone is called dead. Returns the judged state.
 */
function checkFinished(dir: string, unfinished: boolean, io: Io): RunState['state'] {
  const m = readManifest(dir);
  if (!m) throw new MmsaError('MSA6710', `${dir}/manifest.json does not parse`, { hint: 'pass a run directory made by `mmsa run`' });
  const judged = judgeRun(m);
  if (judged.state === 'completed') return judged.state;
  const what =
    judged.state === 'dead'
      ? `died without finishing: ${judged.why}`
      : judged.state === 'running'
        ? `is still training (${judged.why})`
        : `ended ${judged.state}${m.error ? ` (${m.error.code}: ${m.error.message})` : ''}`;
  if (!unfinished) {
    throw new MmsaError('MSA6742', `run ${dir} ${what}`, {
      hint: `train it to the end with \`${m.command.length > 0 ? m.command.join(' ') : 'mmsa run <spec>'}\` (a dead run is trained again), or pass --unfinished to predict with its best checkpoint so far`,
      details: { path: dir, state: judged.state },
    });
  }
  io.err(`note: run ${dir} ${what}; predicting with its best checkpoint so far (--unfinished)\n`);
  return judged.state;
}
