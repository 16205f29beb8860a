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
import { connectionOptions, jobIdOf, parseRedisUrl, QUEUE_NAME, QUEUE_PREFIX, workerNameOf } from './connection.js';

/** How long a finished job's submitter waits for the job's end event (and so its last progress) from the stream. */
const END_EVENT_WAIT_MS = 3000;

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
  // While Redis is away every client reports each failed reconnection; commands wait in ioredis' offline queue and
  // go through once it is back, so the search only pauses. (An unheard 'error' event would end the process.)
  queue.on('error', () => {});
  await queue.waitUntilReady();
  // Events are read from the stream position before any job of ours is added: QueueEvents would otherwise start at
  // its first read ('$'), and a worker that takes a job at once could report the job's first events before that read
  // (the first trials in flight then lacked run.start at the submitter).
  const events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX, lastEventId: await lastEventId(queue) });
  events.on('error', () => {});
  const listeners = new Map<string, (e: RunEvent) => void>();
  // Jobs whose progress we heard, and those whose end we read from the stream since (see `follow`).
  const heard = new Set<string>();
  const ended = new Set<string>();
  events.on('progress', ({ jobId, data }) => {
    const l = listeners.get(jobId);
    if (l && data && typeof data === 'object' && 'kind' in (data as object)) {
      heard.add(jobId);
      // Progress after an end: BullMQ retried the job after a failed attempt; wait for this attempt's end instead.
      ended.delete(jobId);
      l(data as RunEvent);
    }
  });
  let detached = false;
  // Pollers sleeping between looks at their job, by job id: a completion or failure event wakes its own at once.
  const waiting = new Map<string, Set<() => void>>();
  const wake = (jobId: string) => waiting.get(jobId)?.forEach((w) => w());
  const onEnd = ({ jobId }: { jobId: string }) => {
    if (heard.has(jobId)) ended.add(jobId);
    wake(jobId);
  };
  events.on('completed', onEnd);
  events.on('failed', onEnd);
  const sleep = (id: string) =>
    new Promise<void>((r) => {
      const set = waiting.get(id) ?? new Set();
      waiting.set(id, set);
      const done = () => {
        clearTimeout(t);
        set.delete(done);
        r();
      };
      const t = setTimeout(done, o.pollMs ?? 300);
      set.add(done);
    });
  const slots = o.inFlight ?? Math.max(2, await workerSlots(queue));
  const add = (job: RunJob, id: string) => queue.add('run', job, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
  const interrupted = (job: RunJob): RunJobResult => ({ key: job.key, status: 'interrupted', runDir: '', reused: false, seconds: 0 });

  const follow = async (job: RunJob, id: string): Promise<RunJobResult> => {
    const first = await queue.getJobState(id);
    if (first === 'failed') {
      // Submitted again by a user who fixed the cause (a worker's version, the data): try once more.
      await (await Job.fromId(queue, id))?.retry('failed');
    } else if (first === 'unknown') {
      await add(job, id);
    }
    for (;;) {
      if (detached) return interrupted(job);
      // The state first, then the job: completed and failed are final, so the job read after holds its result.
      const state = await queue.getJobState(id);
      if (state === 'completed' || state === 'failed') {
        // The poll can see the end before the event stream has delivered the job's last progress (its run.end). The
        // stream is ordered, so once its end event is read every event before it has been passed on. A job that ran
        // unheard (finished before we listened) has nothing more to deliver.
        const until = Date.now() + END_EVENT_WAIT_MS;
        while (heard.has(id) && !ended.has(id) && !detached && Date.now() < until) await sleep(id);
        heard.delete(id);
        ended.delete(id);
        const cur = await Job.fromId<RunJob, QueueJobReturn>(queue, id);
        if (cur && state === 'completed' && cur.returnvalue) return land(job, cur.returnvalue, o.outRoot);
        if (cur && state === 'failed') {
          return { key: job.key, status: 'failed', runDir: '', reused: false, seconds: 0, error: { code: 'MSA6761', message: `${job.key} failed on the queue: ${cur.failedReason}` } };
        }
      }
      // Removed meanwhile (by hand, or a queue emptied with `obliterate`): put it back; its id keeps it single.
      if (state === 'unknown') await add(job, id);
      await sleep(id);
    }
  };

  const run = async (job: RunJob, onEvent: (e: RunEvent) => void): Promise<RunJobResult> => {
    const id = jobIdOf(job.key);
    listeners.set(id, onEvent);
    try {
      return await follow(job, id);
    } catch (e) {
      // Closing the connections under a poller (after Ctrl-C or a failure elsewhere) is a detach, not an error.
      if (detached) return interrupted(job);
      throw e;
    } finally {
      listeners.delete(id);
    }
  };

  const detach = () => {
    detached = true;
    for (const set of waiting.values()) set.forEach((w) => w());
  };

  return {
    queue,
    slots,
    run,
    // Detach: the jobs stay on the queue and the workers finish them; a rerun (or `mmsa status`) picks them up.
    abortAll: detach,
    async close() {
      detach();
      await events.close();
      await queue.close();
    },
  };
}

/** The id of the queue's newest event ('0-0' for an empty stream): where this submitter starts listening. */
async function lastEventId(queue: Queue): Promise<string> {
  // BullMQ's Redis backend hands out its ioredis client; its interface type omits the stream commands.
  const client = (await queue.backend.client) as unknown as { xrevrange(...args: (string | number)[]): Promise<[string, string[]][]> };
  const last = (await client.xrevrange(queue.keys['events']!, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last[0]?.[0] ?? '0-0';
}

/** Concurrency of the workers connected now (each registers it in its Redis client name). */
export async function workerSlots(queue: Queue): Promise<number> {
  try {
    const ws = await queue.getWorkers();
    return ws.reduce((n, w) => n + (Number(/-c(\d+)$/.exec(workerNameOf(w))?.[1]) || 1), 0);
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
