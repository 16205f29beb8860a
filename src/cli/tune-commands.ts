// `mmsa tune SPEC [--trials N] [--jobs N] [--preset mmsa] [--queue redis://...]`: compiles the searched spec, picks a
// runner (worker processes here, or a BullMQ queue), runs the search with a reporter and prints the trials table.
// Exit codes as `mmsa run`: 0 ok, 1 failed, 2 usage, 130/143 interrupted (rerun the command to resume).

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { compileFileAsync } from '../compiler/compile.js';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { SourceHost } from '../compiler/source/source-file.js';
import { colorEnabled, chooseReporter, type ReporterChoice } from '../report/choose-reporter.js';
import { EXIT_IO, isOutputError } from '../runtime/fs-errors.js';
import { MmsaError } from '../errors.js';
import { resolveTune } from '../tune/tune-config.js';
import type { Runner, TuneEvent } from '../tune/search.js';
import { createNdjsonTuneReporter, createPlainTuneReporter, formatTrialsTable, type TuneReporter } from '../tune/tune-reporters.js';
import type { Io } from './main.js';
import { resolveSpecArg } from './resolve-spec.js';
import { parseKernelOptions } from './run-commands.js';

export interface TuneCommandOptions {
  trials?: string | number;
  jobs?: string | number;
  preset?: string;
  out?: string;
  dataRoot?: string;
  backend?: string;
  native?: string;
  threads?: string | number;
  reporter?: ReporterChoice;
  queue?: string;
  /** Embedding and tests: external cancellation, and every tune event. */
  signal?: AbortSignal;
  onEvent?: (e: TuneEvent) => void;
}

function usage(io: Io, msg: string): number {
  io.err(`error: ${msg}\n`);
  return 2;
}

function positiveInt(v: string | number | undefined, flag: string): number | undefined | Error {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : new Error(`${flag} expects a positive integer, got '${v}'`);
}

/** Worker processes when --jobs is not given: as many as the cores allow with each run's native threads. */
export function defaultJobs(threads: number | undefined, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, threads ?? 1)));
}

export function makeTuneReporter(choice: ReporterChoice | undefined, io: Io): TuneReporter {
  const name = chooseReporter(choice, { isTTY: io.isTTY && Boolean(io.terminal), env: io.env });
  if (name === 'ndjson') return createNdjsonTuneReporter({ out: io.out });
  if (name === 'tui' && io.terminal) {
    const terminal = io.terminal;
    return {
      // Loaded only on a terminal (Ink and React are not needed for plain or NDJSON output).
      ...lazyTui(terminal, colorEnabled({ isTTY: io.isTTY, env: io.env })),
    };
  }
  return createPlainTuneReporter({ out: io.out, err: io.err });
}

function lazyTui(terminal: NonNullable<Io['terminal']>, color: boolean): TuneReporter {
  let tui: TuneReporter | undefined;
  const queued: TuneEvent[] = [];
  void import('../tune/tui/tune-tui.js').then(({ createTuneTui }) => {
    tui = createTuneTui({ stdout: terminal.stdout, ...(terminal.stderr ? { stderr: terminal.stderr } : {}), color });
    for (const e of queued.splice(0)) tui.onEvent(e);
  });
  return {
    onEvent: (e) => (tui ? tui.onEvent(e) : queued.push(e)),
    close: () => tui?.close?.(),
  };
}

export async function tuneCommand(file: string, opts: TuneCommandOptions, io: Io): Promise<number> {
  const trials = positiveInt(opts.trials, '--trials');
  if (trials instanceof Error) return usage(io, trials.message);
  const jobs0 = positiveInt(opts.jobs, '--jobs');
  if (jobs0 instanceof Error) return usage(io, jobs0.message);
  const kernels = parseKernelOptions(opts);
  if (kernels instanceof Error) return usage(io, kernels.message);
  const host = new SourceHost();
  const dataRoot = opts.dataRoot ? resolve(io.cwd, opts.dataRoot) : undefined;
  const spec = resolveSpecArg(file, io.cwd);
  if (spec instanceof Error) return usage(io, spec.message);
  if (spec.note) io.err(`${spec.note}\n`);
  const path = spec.path;
  // Async: a .mmsa spec loads the DSL front end (the trials then compile in this process without waiting).
  const compiled = await compileFileAsync(path, { env: io.env, host, ...(dataRoot ? { dataRoot } : {}), ...(opts.preset ? { tunePreset: opts.preset } : {}) });
  const text = formatDiagnostics(compiled.diagnostics, host, { cwd: io.cwd, color: io.isTTY && !io.env['NO_COLOR'] });
  if (text) io.err(text);
  if (hasErrors(compiled.diagnostics) || !compiled.ir || !compiled.spec) return 1;
  const cfg = resolveTune(compiled.spec);
  if (!cfg) return usage(io, `${file} has no tune: section; add one (see docs/tuning.md) or pass --preset mmsa for MMSA's search space`);

  const { runSearch } = await import('../tune/search.js');
  const { localCompat } = await import('../tune/run-job.js');
  const compat = await localCompat(kernels.native);
  const outRoot = resolve(io.cwd, opts.out ?? 'runs');
  const jobs = jobs0 ?? defaultJobs(kernels.threads);
  let runner: Runner;
  if (opts.queue) {
    const { createQueueRunner } = await import('../queue/queue-runner.js');
    runner = await createQueueRunner({ url: opts.queue, inFlight: jobs0, outRoot });
  } else {
    const { LocalPool } = await import('../tune/local-pool.js');
    const pool = new LocalPool({ size: jobs, ...(kernels.threads !== undefined ? { threads: kernels.threads } : { threads: Math.max(1, Math.floor(availableParallelism() / jobs)) }), env: io.env });
    runner = { slots: jobs, run: (job, onEvent) => pool.run(job, { onEvent }), abortAll: () => pool.abortAll(), close: () => pool.close() };
  }
  const reporter = makeTuneReporter(opts.reporter, io);
  const ac = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      io.err(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig} again: exiting now (rerun the command to resume the search)\n`);
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    received = sig;
    io.err(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping the trials in flight (rerun the command to resume)\n`);
    ac.abort();
    runner.abortAll();
  };
  if (!opts.signal) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  } else {
    opts.signal.addEventListener('abort', () => {
      ac.abort();
      runner.abortAll();
    });
  }
  try {
    const outcome = await runSearch({
      file: path,
      compiled,
      cfg,
      ...(opts.preset ? { tunePreset: opts.preset } : {}),
      env: io.env,
      ...(dataRoot ? { dataRoot } : {}),
      outRoot,
      ...(trials !== undefined ? { trials } : {}),
      runner,
      compat,
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...kernels,
      signal: ac.signal,
      command: ['mmsa', 'tune', file, ...(opts.preset ? ['--preset', opts.preset] : [])],
      onEvent: (e) => {
        reporter.onEvent(e);
        opts.onEvent?.(e);
      },
    });
    reporter.close?.();
    if (outcome.trials.length > 0 && chooseReporter(opts.reporter, { isTTY: io.isTTY && Boolean(io.terminal), env: io.env }) !== 'ndjson') {
      io.out(`\n${formatTrialsTable(outcome.trials, cfg.objective.key, outcome.best?.trial)}`);
      io.out(`trials: ${outcome.tuneDir}/trials.csv${outcome.bestYaml ? `\nbest setting: ${outcome.bestYaml}` : ''}\n`);
    }
    if (outcome.status === 'interrupted') return received === 'SIGTERM' ? 143 : 130;
    return outcome.status === 'completed' ? 0 : 1;
  } catch (e) {
    if (e instanceof MmsaError) {
      io.err(`${e.format()}\n`);
      return isOutputError(e) ? EXIT_IO : 1;
    }
    throw e;
  } finally {
    reporter.close?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runner.close();
  }
}
