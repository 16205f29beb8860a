// The start lock of a seed's run directory: `.<hash>-<seed>.lock` beside it, created atomically before the data loads
// and held until the seed ends, so two `mmsa run`s of the same spec and seed started at the same moment never both
// train into one directory. Phase 7 (execute).

import { linkSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MmsaError } from '../errors.js';
import { ensureDir, writeFileAtomic } from './run-dir.js';
import { describeWriteError, type WriteContext } from './fs-errors.js';
import { currentOwner, HEARTBEAT_MS, ownerAlive, type RunOwner } from './run-liveness.js';

export interface RunLock {
  readonly path: string;
  /** Removes the lock (only while it is still this holder's); idempotent. */
  release(): void;
}

/** Where the start lock of the run directory `dir` lives. */
export function runLockPath(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.lock`);
}

const held = new Set<HeldLock>();
let exitHookInstalled = false;

class HeldLock implements RunLock {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    readonly path: string,
    private readonly content: string,
    heartbeatMs: number,
  ) {
    // The file's mtime is the heartbeat readers on other hosts judge (pids are only checked on the owner's host).
    this.timer = setInterval(() => {
      try {
        const t = new Date();
        utimesSync(this.path, t, t);
      } catch {
        /* a full or vanished place: the run's own writes report it */
      }
    }, heartbeatMs);
    this.timer.unref();
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!held.delete(this)) return;
    try {
      if (readFileSync(this.path, 'utf8') === this.content) rmSync(this.path, { force: true });
    } catch {
      /* gone already, or a read-only place: the next run judges the owner dead */
    }
  }
}

/** MSA6743: the run directory `dir` belongs to a live process (its start lock or its manifest says so). */
export function beingTrained(dir: string, why: string, owner?: RunOwner): MmsaError {
  return new MmsaError('MSA6743', `${dir} is being trained right now (${why})`, {
    hint: `follow it with \`mmsa watch ${dir}\`, or stop that process first; a second run of the same spec and seed would overwrite it`,
    details: { path: dir, ...(owner ? { owner } : {}) },
  });
}

function readLock(path: string): { content: string; owner?: RunOwner; heartbeatAt?: string } | undefined {
  try {
    const content = readFileSync(path, 'utf8');
    const heartbeatAt = new Date(statSync(path).mtimeMs).toISOString();
    try {
      const o = JSON.parse(content) as Partial<RunOwner>;
      if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.processStartedAt === 'string') {
        return { content, owner: { pid: o.pid, host: o.host, processStartedAt: o.processStartedAt }, heartbeatAt };
      }
    } catch {
      /* not ours to read: judged by age below */
    }
    return { content, heartbeatAt };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Takes the start lock of the run directory `dir`, or throws MSA6743 naming the live process that holds it. A lock
 * left by a dead process (SIGKILL, power loss) is taken over. The lock file is written whole under a temporary name
 * and linked into place, so no reader ever sees it half-written, and a link fails when the lock exists (atomic).
 */
export function acquireRunLock(dir: string, ctx: WriteContext = {}, opts: { heartbeatMs?: number } = {}): RunLock {
  const path = runLockPath(dir);
  ensureDir(dirname(path), ctx);
  const owner = currentOwner();
  const content = `${JSON.stringify({ ...owner, lockedAt: new Date().toISOString() })}\n`;
  const tmp = `${path}.tmp-${process.pid}`;
  // Errors name the run directory: the lock is an implementation detail of writing it.
  const shown: WriteContext = { ...ctx, shownAs: dir };
  writeFileAtomic(tmp, content, shown);
  try {
    // A few rounds: a stale lock is moved away, then the link is tried again (another starter may win that race).
    for (let round = 0; round < 8; round++) {
      try {
        linkSync(tmp, path);
        const lock = new HeldLock(path, content, opts.heartbeatMs ?? HEARTBEAT_MS);
        held.add(lock);
        installExitHook();
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw describeWriteError(e, path, shown) ?? e;
      }
      const other = readLock(path);
      if (!other) continue;
      // A lock without a readable owner (not written by mmsa) counts as held while it is fresh.
      const judged = other.owner ? ownerAlive(other.owner, other.heartbeatAt) : { alive: Date.now() - Date.parse(other.heartbeatAt!) < 60_000, why: `an unreadable lock file ${path}` };
      if (judged.alive) throw beingTrained(dir, judged.why, other.owner);
      takeOverStale(path, other.content);
    }
    throw new MmsaError('MSA6743', `${dir}: could not take its start lock ${path} (other processes keep starting the same spec and seed)`, {
      hint: 'run one `mmsa run` of a spec and seed at a time',
      details: { path: dir, lock: path },
    });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Moves a dead holder's lock away. Between reading it and moving it another starter may have replaced it with a live
 * lock: then what was moved is not the stale content, and it is linked back (unless a third one got in first).
 */
function takeOverStale(path: string, staleContent: string): void {
  const grave = `${path}.old-${process.pid}`;
  try {
    renameSync(path, grave);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    if (readFileSync(grave, 'utf8') !== staleContent) {
      try {
        linkSync(grave, path);
      } catch {
        /* a newer lock is in place already */
      }
    }
  } finally {
    rmSync(grave, { force: true });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of [...held]) l.release();
  });
}
