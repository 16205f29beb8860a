// `mmsa worker --queue redis://... [--concurrency N] [--shared]`: takes run jobs from the BullMQ queue, refuses those
// of another mmsa version or native build (saying why), runs the rest in its own worker processes and returns the
// result with the run directory's files (or writes them to the job's shared path). Phase 7.

import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunEvent } from '../runtime/events.js';
import { LocalPool } from '../tune/local-pool.js';
import { compatProblem, localCompat, type RunJob } from '../tune/run-job.js';
import { packRunDir } from './artifacts.js';
import { connectionOptions, lockMs, parseRedisUrl, QUEUE_NAME, QUEUE_PREFIX } from './connection.js';
import type { QueueJobReturn } from './queue-runner.js';

export interface WorkerOptions {
  url: string;
  concurrency: number;
  /** Write run directories to the job's own --out (a path every machine shares) instead of returning the files. */
  shared: boolean;
  /** Where runs go when not shared. */
  cacheDir: string;
  threads?: number;
  log(s: string): void;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const connection = connectionOptions(parseRedisUrl(o.url));
  const pool = new LocalPool({ size: o.concurrency, ...(o.threads !== undefined ? { threads: o.threads } : {}), env: o.env });
  const name = `${hostname()}-${process.pid}-c${o.concurrency}`;
  // Checked before the first job is taken: loading the native library blocks this process, and a job's lock is only
  // renewed while it is free.
  const here = new Map<string, Awaited<ReturnType<typeof localCompat>>>([['auto', await localCompat(undefined)]]);
  const compatFor = async (job: RunJob) => {
    const k = job.native ?? 'auto';
    if (!here.has(k)) here.set(k, await localCompat(job.native));
    return here.get(k)!;
  };
  const processor = async (bj: Job<RunJob>): Promise<QueueJobReturn> => {
    const job = bj.data;
    const problem = compatProblem(job.compat, await compatFor(job));
    if (problem) {
      o.log(`refused ${job.key}: ${problem}\n`);
      throw new UnrecoverableError(`refused by worker ${name}: ${problem}`);
    }
    o.log(`running ${job.key} (attempt ${bj.attemptsMade + 1})\n`);
    let lastStep = 0;
    const onEvent = (e: RunEvent) => {
      // Steps come many times a second: at most two a second go through Redis; everything else at once.
      if (e.kind === 'step.end') {
        if (e.t - lastStep < 500) return;
        lastStep = e.t;
      }
      void bj.updateProgress(e as unknown as object).catch(() => {});
    };
    const outRoot = o.shared ? job.outRoot : o.cacheDir;
    const r = await pool.run(job, { onEvent, outRoot });
    if (r.status !== 'completed') {
      // Failed or stopped here: BullMQ retries it (attempts), possibly on another worker.
      throw new Error(r.error ? `${r.error.code}: ${r.error.message}` : `run ${r.status}`);
    }
    o.log(`done ${job.key} in ${r.seconds.toFixed(1)} s${r.reused ? ' (reused)' : ''}\n`);
    return { ...r, worker: name, ...(o.shared ? {} : { files: packRunDir(r.runDir) }) };
  };
  const worker = new Worker<RunJob, QueueJobReturn>(QUEUE_NAME, processor, {
    connection,
    prefix: QUEUE_PREFIX,
    concurrency: o.concurrency,
    name,
    lockDuration: lockMs(o.env),
    stalledInterval: Math.max(500, Math.floor(lockMs(o.env) / 2)),
    maxStalledCount: 3,
  });
  // Redis away: ioredis retries every two seconds and each failure is an 'error'; say it once per kind of failure.
  let lastError = '';
  worker.on('error', (e) => {
    if (e.message !== lastError) o.log(`queue connection: ${e.message}\n`);
    lastError = e.message;
  });
  await worker.waitUntilReady();
  o.log(`worker ${name} on ${o.url}: ${o.concurrency} at a time, runs in ${o.shared ? "each job's --out (shared)" : o.cacheDir}\n`);
  await new Promise<void>((r) => (o.signal.aborted ? r() : o.signal.addEventListener('abort', () => r())));
  o.log('stopping: jobs in flight are handed back to the queue\n');
  pool.abortAll();
  await worker.close(true);
  await pool.close();
}

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return resolve(env['MMSA_WORKER_CACHE'] ?? join(env['XDG_CACHE_HOME'] ?? join(env['HOME'] ?? '.', '.cache'), 'mmsa', 'worker-runs'));
}
