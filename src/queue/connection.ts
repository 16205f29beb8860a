// Redis connections of the BullMQ queue: `redis://host:port/db` checked into ioredis options, the queue's name and
// key prefix, and the job options that make runs idempotent and survive worker and Redis restarts. Phase 7.

import { MmsaError } from '../errors.js';

export const QUEUE_NAME = 'runs';
export const QUEUE_PREFIX = 'mmsa';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MmsaError('MSA6760', `--queue '${url}' is not a URL`, { hint: 'write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0' });
  }
  if (u.protocol !== 'redis:') throw new MmsaError('MSA6760', `--queue '${url}' is not a redis:// URL`, { hint: 'write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0' });
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new MmsaError('MSA6760', `--queue '${url}': database '${u.pathname.slice(1)}' is not a number`, { hint: 'the path of the URL is the Redis database number, e.g. /0' });
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
  };
}

/**
 * ioredis options: commands wait while Redis is away (offline queue, endless retries with a capped delay), which is
 * what lets workers and submitters ride out a Redis restart. BullMQ requires maxRetriesPerRequest null for workers.
 */
export function connectionOptions(t: RedisTarget): Record<string, unknown> {
  return { ...t, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: (times: number) => Math.min(200 * times, 2000) };
}

/** Seconds a job's lock lives without renewal before another worker may take it over (MMSA_QUEUE_LOCK_MS for tests). */
export function lockMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['MMSA_QUEUE_LOCK_MS']);
  return Number.isFinite(v) && v >= 500 ? v : 30_000;
}

/** A job id from a run key: BullMQ ids may not hold ':'. */
export function jobIdOf(key: string): string {
  return key.replace(/:/g, '_');
}

/** A connected worker's own name (`<host>-<pid>-c<concurrency>`): BullMQ keeps it after `:w:` in the client name. */
export function workerNameOf(client: Record<string, unknown>): string {
  const raw = String(client['rawname'] ?? client['name'] ?? '?');
  const i = raw.indexOf(':w:');
  return i >= 0 ? raw.slice(i + 3) : raw;
}
