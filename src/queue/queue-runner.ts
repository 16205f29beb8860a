// The submitting side of the queue (`mmsa tune --queue`, `mmsa run --queue`): each RunJob becomes a BullMQ job whose
// id is the run's content hash (adding it again is a no-op; a finished one answers at once), progress events arrive
// through QueueEvents, and the state is also polled so a Redis restart loses nothing. Phase 7.

import { Queue, QueueEvents, Job } from 'bullmq';
import { join } from 'node:path';
import type { RunEvent } from '../runtime/events.js';
import { findCompletedRun, runDirPath } from '../runtime/run-dir.js';
import type { RunJob, RunJobResult } from '../tune/run-job.js';
import type { Runner } from '../tune/search.js';
import { unpackRunDir, type PackedRunDir } from './artifacts.js';
import { connectionOptions, jobIdOf, parseRedisUrl, QUEUE_NAME, QUEUE_PREFIX } from './connection.js';

/** What a worker returns: the run's result, and its files unless it wrote them to a shared path. */
export interface QueueJobReturn extends RunJobResult {
  files?: PackedRunDir;
  worker: string;
}

export interface QueueRunnerOptions {
  url: string;
  /** Units in flight (default: 2 per connected worker's concurrency, at least 2). */
  inFlight?: number;
  /** Where run directories land on this machine. */
  outRoot: string;
  pollMs?: number;
}

export interface QueueRunner extends Runner {
  queue: Queue;
}

export async function createQueueRunner(o: QueueRunnerOptions): Promise<QueueRunner> {
  const connection = connectionOptions(parseRedisUrl(o.url));
  const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  const events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  await queue.waitUntilReady();
  const listeners = new Map<string, (e: RunEvent) => void>();
  events.on('progress', ({ jobId, data }) => {
    const l = listeners.get(jobId);
    if (l && data && typeof data === 'object' && 'kind' in (data as object)) l(data as RunEvent);
  });
  let detached = false;
  const waiting = new Set<() => void>();
  const slots = o.inFlight ?? Math.max(2, await workerSlots(queue));

  const run = async (job: RunJob, onEvent: (e: RunEvent) => void): Promise<RunJobResult> => {
    const id = jobIdOf(job.key);
    listeners.set(id, onEvent);
    try {
      let j = await Job.fromId(queue, id);
      if (j && (await j.getState()) === 'failed') {
        // Submitted again by a user who fixed the cause (a worker's version, the data): try once more.
        await j.retry('failed');
      } else if (!j) {
        j = await queue.add('run', job, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
      }
      for (;;) {
        if (detached) return { key: job.key, status: 'interrupted', runDir: '', reused: false, seconds: 0 };
        const cur = await Job.fromId(queue, id);
        const state = cur ? await cur.getState() : 'unknown';
        if (cur && state === 'completed') return land(job, cur.returnvalue as QueueJobReturn, o.outRoot);
        if (cur && state === 'failed') {
          return { key: job.key, status: 'failed', runDir: '', reused: false, seconds: 0, error: { code: 'MSA6761', message: `${job.key} failed on the queue: ${cur.failedReason}` } };
        }
        if (!cur) j = await queue.add('run', job, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            waiting.delete(wake);
            r();
          }, o.pollMs ?? 300);
          const wake = () => {
            clearTimeout(t);
            r();
          };
          waiting.add(wake);
        });
      }
    } finally {
      listeners.delete(id);
    }
  };

  return {
    queue,
    slots,
    run,
    // Detach: the jobs stay on the queue and the workers finish them; a rerun (or `mmsa status`) picks them up.
    abortAll() {
      detached = true;
      for (const w of waiting) w();
    },
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

/** Concurrency of the workers connected now (each registers it in its Redis client name). */
export async function workerSlots(queue: Queue): Promise<number> {
  try {
    const ws = await queue.getWorkers();
    return ws.reduce((n, w) => n + (Number(/-c(\d+)$/.exec(String(w['name'] ?? ''))?.[1]) || 1), 0);
  } catch {
    return 0;
  }
}

/** A completed job's run directory under this machine's runs/ (written from the artefact unless it is already there). */
function land(job: RunJob, ret: QueueJobReturn, outRoot: string): RunJobResult {
  const dir = runDirPath(outRoot, job.pipeline, job.specHash, job.seed);
  if (ret.files && !findCompletedRun(dir)) unpackRunDir(ret.files, dir);
  const { files: _files, worker: _w, ...rest } = ret;
  return { ...rest, runDir: findCompletedRun(dir) ? dir : join(ret.runDir) };
}
