// A worker process of the local pool (`mmsa tune --jobs N`, `mmsa worker --concurrency N`): runs one RunJob at a time
// sent by its parent over IPC and sends every event back. Phase 7. It dies with its parent (IPC disconnect), so a
// killed worker never leaves a trial training behind it.

import type { RunEvent } from '../runtime/events.js';
import { enableFileReuse } from '../runtime/data/file-reuse.js';
import { executeRunJob, type RunJob, type RunJobResult } from './run-job.js';

export type ToChild = { type: 'run'; job: RunJob; outRoot?: string } | { type: 'abort' };
export type FromChild = { type: 'ready' } | { type: 'event'; key: string; event: RunEvent } | { type: 'done'; result: RunJobResult } | { type: 'crash'; key: string; message: string };

// The parent may be gone between the check and the write (killed): the write error is the disconnect we handle below.
const send = (m: FromChild) => {
  if (process.connected) process.send!(m, undefined, {}, () => {});
};

let current: AbortController | undefined;

// Runs follow one another on the same feature file: keep it parsed between them (MMSA_DATA_REUSE=0 turns this off).
enableFileReuse();

// Ctrl-C reaches the whole process group: the parent decides (it sends 'abort'), so the child ignores the signal.
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  if (!current) process.exit(0);
  current.abort();
  // A run marks itself interrupted at its next step; give it a moment, then go regardless.
  setTimeout(() => process.exit(0), 5000);
});

process.on('message', (m: ToChild) => {
  if (m.type === 'abort') {
    current?.abort();
    return;
  }
  const ac = new AbortController();
  current = ac;
  executeRunJob(m.job, { signal: ac.signal, onEvent: (event) => send({ type: 'event', key: m.job.key, event }), ...(m.outRoot ? { outRoot: m.outRoot } : {}) })
    .then((result) => send({ type: 'done', result }))
    .catch((e: unknown) => send({ type: 'crash', key: m.job.key, message: e instanceof Error ? (e.stack ?? e.message) : String(e) }))
    .finally(() => {
      current = undefined;
      if (!process.connected) process.exit(0);
    });
});

send({ type: 'ready' });
