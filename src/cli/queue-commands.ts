// `mmsa worker`, `mmsa status` and `mmsa run --queue`: the command-line side of the BullMQ queue (src/queue/).
// Exit codes: 0 ok, 1 failed, 2 usage, 130 interrupted (detached: the jobs stay on the queue).

import { resolve } from 'node:path';
import { MmsaError } from '../errors.js';
import type { Reporter } from '../report/plain-reporter.js';
import type { Io } from './main.js';
import { parseSets } from './resolve-spec.js';
import { parseKernelOptions, parseSeeds, resolveRunSpec } from './run-commands.js';

type Opts = Record<string, unknown>;

function usage(io: Io, msg: string): number {
  io.err(`error: ${msg}\n`);
  return 2;
}

function stopSignal(io: Io): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const h = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(sig === 'SIGTERM' ? 143 : 130);
    io.err(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping\n`);
    ac.abort();
  };
  process.on('SIGINT', h);
  process.on('SIGTERM', h);
  return { signal: ac.signal, dispose: () => (process.off('SIGINT', h), process.off('SIGTERM', h)) };
}

async function guarded(io: Io, f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof MmsaError) {
      io.err(`${e.format()}\n`);
      return 1;
    }
    throw e;
  }
}

export async function workerCommand(o: Opts, io: Io): Promise<number> {
  const url = o['queue'] as string | undefined;
  if (!url) return usage(io, 'mmsa worker needs --queue redis://HOST:PORT/DB');
  const concurrency = Number(o['concurrency'] ?? 1);
  if (!Number.isInteger(concurrency) || concurrency < 1) return usage(io, `--concurrency expects a positive integer, got '${String(o['concurrency'])}'`);
  const kernels = parseKernelOptions(o as { threads?: string });
  if (kernels instanceof Error) return usage(io, kernels.message);
  const { runWorker, defaultCacheDir } = await import('../queue/worker.js');
  const stop = stopSignal(io);
  return guarded(io, async () => {
    try {
      await runWorker({
        url,
        concurrency,
        shared: Boolean(o['shared']),
        cacheDir: o['cache'] ? resolve(io.cwd, o['cache'] as string) : defaultCacheDir(io.env),
        ...(kernels.threads !== undefined ? { threads: kernels.threads } : {}),
        log: (s) => io.err(s),
        env: io.env,
        signal: stop.signal,
      });
      return 0;
    } finally {
      stop.dispose();
    }
  });
}

export async function statusCommand(o: Opts, io: Io): Promise<number> {
  if (!o['queue']) return usage(io, 'mmsa status needs --queue redis://HOST:PORT/DB');
  const { queueStatus } = await import('../queue/status.js');
  const stop = stopSignal(io);
  return guarded(io, async () => {
    try {
      return await queueStatus({ url: o['queue'] as string, follow: Boolean(o['follow']), ndjson: o['reporter'] === 'ndjson', out: io.out, signal: stop.signal });
    } finally {
      stop.dispose();
    }
  });
}

export async function runQueueCommand(files: string[], o: Opts, io: Io, reporter: Reporter): Promise<number> {
  // Each argument a file or a shipped name; none: -m/-d, as a local run.
  const specs: string[] = [];
  for (const f of files.length > 0 ? files : [undefined]) {
    const spec = resolveRunSpec(f, o as { model?: string; dataset?: string }, io);
    if (spec instanceof Error) return usage(io, spec.message);
    if (spec.note) io.err(`${spec.note}\n`);
    specs.push(spec.path);
  }
  const sets = parseSets(o['set'] as string[] | undefined);
  if (sets instanceof Error) return usage(io, sets.message);
  const seeds = parseSeeds(o['seeds'] as string | string[] | undefined);
  if (seeds instanceof Error) return usage(io, seeds.message);
  const maxEpochs = o['maxEpochs'] === undefined ? undefined : Number(o['maxEpochs']);
  if (maxEpochs !== undefined && (!Number.isInteger(maxEpochs) || maxEpochs < 1)) return usage(io, `--max-epochs expects a positive integer, got '${String(o['maxEpochs'])}'`);
  if (o['force']) return usage(io, "--force does not go with --queue: a finished job answers from its stored result; train again locally with `mmsa run FILE --force`");
  const kernels = parseKernelOptions(o as { native?: string; threads?: string });
  if (kernels instanceof Error) return usage(io, kernels.message);
  const { runOnQueue } = await import('../queue/queue-run.js');
  const stop = stopSignal(io);
  return guarded(io, async () => {
    try {
      const status = await runOnQueue({
        files: specs,
        ...(sets.length ? { set: sets } : {}),
        url: o['queue'] as string,
        cwd: io.cwd,
        env: io.env,
        outRoot: resolve(io.cwd, (o['out'] as string | undefined) ?? 'runs'),
        ...(o['dataRoot'] ? { dataRoot: resolve(io.cwd, o['dataRoot'] as string) } : {}),
        ...(seeds ? { seeds } : {}),
        ...(maxEpochs !== undefined ? { maxEpochs } : {}),
        ...kernels,
        ...(o['backend'] ? { backend: o['backend'] as string } : {}),
        onEvent: (e) => reporter.onEvent(e),
        err: io.err,
        signal: stop.signal,
      });
      return status === 'completed' ? 0 : status === 'interrupted' ? 130 : 1;
    } finally {
      reporter.close?.();
      stop.dispose();
    }
  });
}
