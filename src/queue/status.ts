// `mmsa status --queue redis://... [--follow]`: what the queue holds (waiting, running, done, failed), the workers
// connected, each running job's latest progress, the jobs that finished last (which worker, when) and each failure's
// reason; --follow re-attaches to the running jobs' live events (plain lines or NDJSON) until the queue is idle.
// Phase 8 (report).

import { Queue, QueueEvents } from 'bullmq';
import type { RunEvent } from '../runtime/events.js';
import { serializeEvent } from '../runtime/events.js';
import { connectionOptions, parseRedisUrl, QUEUE_NAME, QUEUE_PREFIX, workerNameOf } from './connection.js';

export interface StatusOptions {
  url: string;
  follow: boolean;
  ndjson: boolean;
  out(s: string): void;
  signal?: AbortSignal;
  pollMs?: number;
}

function describe(e: RunEvent | undefined): string {
  if (!e || typeof e !== 'object' || !('kind' in e)) return 'waiting for its first event';
  switch (e.kind) {
    case 'run.start':
      return `started (seed ${e.seed})`;
    case 'step.end':
      return `epoch ${e.epoch} step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)}`;
    case 'epoch.end':
      return `epoch ${e.epoch} done, valid loss ${e.valid.loss.toFixed(4)}`;
    case 'run.end':
      return `finished (${e.status})`;
    default:
      return e.kind;
  }
}

/** How many of the newest finished jobs status lists. */
const RECENT_DONE = 10;

interface DoneJob {
  key: string;
  worker: string | null;
  finishedOn: number | null;
}

/**
 * The newest finished jobs, newest first: a user who detached (or looks from another shell) sees what the workers
 * finished meanwhile. Read field by field from each job's hash: a finished job's return value holds its packed run
 * directory (model weights included), which a status line has no use for.
 */
async function recentDone(queue: Queue): Promise<DoneJob[]> {
  const ids = await queue.getRanges(['completed'], 0, RECENT_DONE - 1, false);
  // BullMQ's Redis backend hands out its ioredis client; its interface type omits hmget.
  const client = (await queue.backend.client) as unknown as { hmget(key: string, ...fields: string[]): Promise<(string | null)[]> };
  // Sent together: one round trip's wait for the ten, not ten.
  return Promise.all(
    ids.map(async (id) => {
      const [data, finishedOn, pb] = await client.hmget(queue.toKey(id), 'data', 'finishedOn', 'pb');
      let key = id;
      try {
        key = (JSON.parse(data ?? '{}') as { key?: string }).key ?? id;
      } catch {
        // A job another program put on the queue: its id stands for it.
      }
      return { key, worker: pb ?? null, finishedOn: finishedOn ? Number(finishedOn) : null };
    }),
  );
}

const clock = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export async function queueStatus(o: StatusOptions): Promise<number> {
  const connection = connectionOptions(parseRedisUrl(o.url));
  const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  // Redis away: commands wait for the reconnection (see connection.ts); an unheard 'error' would end the process.
  queue.on('error', () => {});
  try {
    await queue.waitUntilReady();
    const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    const workers = await queue.getWorkers();
    const done = c['completed'] ? await recentDone(queue) : [];
    if (!o.ndjson) {
      o.out(`queue ${o.url}: ${c['waiting']! + (c['prioritized'] ?? 0)} waiting, ${c['active']} running, ${c['completed']} done, ${c['failed']} failed${c['delayed'] ? `, ${c['delayed']} retrying` : ''}\n`);
      o.out(`workers: ${workers.length ? workers.map(workerNameOf).join(', ') : 'none connected'}\n`);
      for (const j of await queue.getActive()) o.out(`  running ${j.data.key}: ${describe(j.progress as RunEvent)}\n`);
      for (const d of done) {
        o.out(`  done ${d.key}${d.worker ? ` by ${d.worker}` : ''}${d.finishedOn ? ` at ${clock(d.finishedOn)} UTC` : ''}\n`);
      }
      if (c['completed']! > RECENT_DONE) o.out(`  (the ${RECENT_DONE} newest of ${c['completed']} done)\n`);
      for (const j of await queue.getFailed(0, 19)) o.out(`  failed ${j.data.key}: ${j.failedReason}\n`);
    } else {
      o.out(`${JSON.stringify({ kind: 'queue.status', counts: c, workers: workers.map(workerNameOf), done })}\n`);
    }
    if (!o.follow) return 0;
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    events.on('error', () => {});
    const keys = new Map<string, string>();
    events.on('progress', ({ jobId, data }) => {
      const e = data as unknown as RunEvent;
      if (o.ndjson) o.out(`{"kind":"job.event","job":${JSON.stringify(jobId)},"event":${serializeEvent(e)}}\n`);
      else if (e.kind !== 'step.end') o.out(`${keys.get(jobId) ?? jobId}: ${describe(e)}\n`);
    });
    events.on('completed', ({ jobId }) => !o.ndjson && o.out(`${keys.get(jobId) ?? jobId}: completed\n`));
    events.on('failed', ({ jobId, failedReason }) => !o.ndjson && o.out(`${keys.get(jobId) ?? jobId}: failed: ${failedReason}\n`));
    await events.waitUntilReady();
    for (;;) {
      if (o.signal?.aborted) break;
      for (const j of await queue.getActive()) if (j.id) keys.set(j.id, j.data.key);
      const n = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(n).every((x) => x === 0)) break;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
    if (!o.ndjson) o.out('queue idle\n');
    await events.close();
    return 0;
  } finally {
    await queue.close();
  }
}
