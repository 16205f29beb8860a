// A pool of worker processes on this machine, each running one RunJob at a time (own tfjs, own wasm heap, own native
// threads), with events streamed back. Used by `mmsa tune --jobs N` and by queue workers. Phase 7 (execute).

import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { RunEvent } from '../runtime/events.js';
import type { FromChild, ToChild } from './pool-child.js';
import type { RunJob, RunJobResult } from './run-job.js';

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  busy?: { key: string; resolve(r: RunJobResult): void; onEvent?: (e: RunEvent) => void };
  /** Taken by a caller that has not sent its job yet (waiting for the process to start). */
  reserved?: boolean;
}

export interface PoolOptions {
  size: number;
  /** Threads of the native kernels per process (MMSA_THREADS in the child). */
  threads?: number;
  env?: NodeJS.ProcessEnv;
}

export class LocalPool {
  private slots: Slot[] = [];
  private waiters: ((s: Slot) => void)[] = [];
  private closed = false;

  constructor(private readonly opts: PoolOptions) {}

  get size(): number {
    return this.opts.size;
  }

  private spawn(): Slot {
    const env = { ...(this.opts.env ?? process.env), ...(this.opts.threads !== undefined ? { MMSA_THREADS: String(this.opts.threads) } : {}) };
    const child = fork(join(packageRoot(), 'dist', 'tune', 'pool-child.js'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let readyResolve!: () => void;
    const slot: Slot = { child, ready: new Promise((r) => (readyResolve = r)) };
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') readyResolve();
      else if (m.type === 'event') slot.busy?.onEvent?.(m.event);
      else if (m.type === 'done' || m.type === 'crash') {
        const b = slot.busy;
        slot.busy = undefined;
        if (b) {
          b.resolve(m.type === 'done' ? m.result : crashed(b.key, m.message));
        }
        this.release(slot);
      }
    });
    child.on('exit', (code, signal) => {
      const b = slot.busy;
      slot.busy = undefined;
      this.slots = this.slots.filter((s) => s !== slot);
      readyResolve();
      if (b) b.resolve(crashed(b.key, `worker process ${child.pid} exited (${signal ?? `code ${code}`}) during the run`));
    });
    this.slots.push(slot);
    return slot;
  }

  private release(slot: Slot): void {
    const w = this.waiters.shift();
    if (w) {
      slot.reserved = true;
      w(slot);
    }
  }

  private async acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy && !s.reserved);
    const slot = free ?? (this.slots.length < this.opts.size ? this.spawn() : undefined);
    if (slot) {
      slot.reserved = true;
      return slot;
    }
    return new Promise((r) => this.waiters.push(r));
  }

  /** Runs a job on the next free process (a process that died is replaced). */
  async run(job: RunJob, o: { onEvent?: (e: RunEvent) => void; outRoot?: string } = {}): Promise<RunJobResult> {
    if (this.closed) throw new Error('the pool is closed');
    let slot = await this.acquire();
    if (!this.slots.includes(slot)) {
      slot = this.spawn();
      slot.reserved = true;
    }
    await slot.ready;
    return new Promise((resolve) => {
      slot.reserved = false;
      slot.busy = { key: job.key, resolve, ...(o.onEvent ? { onEvent: o.onEvent } : {}) };
      const msg: ToChild = { type: 'run', job, ...(o.outRoot ? { outRoot: o.outRoot } : {}) };
      slot.child.send(msg);
    });
  }

  /** Asks every running job to stop after its current step (it is marked interrupted). */
  abortAll(): void {
    for (const s of this.slots) if (s.busy && s.child.connected) s.child.send({ type: 'abort' } satisfies ToChild);
  }

  /** Ends the processes (after their jobs returned). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((r) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
            s.child.once('exit', () => r());
            s.child.disconnect();
          }),
      ),
    );
    this.slots = [];
  }
}

function crashed(key: string, message: string): RunJobResult {
  return { key, status: 'failed', runDir: '', reused: false, seconds: 0, error: { code: 'MSA6752', message: `${key}: ${message}` } };
}
