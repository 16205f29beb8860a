// Keeps the last feature file a process read, for processes that train one run after another on the same data (the
// worker processes of `mmsa tune` and `mmsa worker`). Phase 7 (execute: loading).
//
// Reading and parsing a MOSI-sized pickle is most of a short trial's overhead. The cache holds the parsed values of
// one file (the keys a pipeline read), tied to the file's identity (path, size, mtime, inode), and hands out a deep
// copy on every hit: the dataset builder converts arrays in place (-inf -> 0) and relies on fresh arrays, and a run
// must never see another run's data. Off unless a process turns it on; MMSA_DATA_REUSE=0 keeps it off, and files
// larger than the limit are never kept (the copy in the cache doubles the memory a worker holds for its data).

import { statSync } from 'node:fs';
import { isPyTuple, markTuple, NDArray, type PyValue } from './pickle/values.js';

/** Files larger than this are read again for every run rather than held twice in memory. */
const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

interface Entry {
  identity: string;
  keys: string;
  value: PyValue;
}

let enabled = false;
let maxBytes = DEFAULT_MAX_BYTES;
let entry: Entry | undefined;
let hits = 0;

/** Turns reuse on for this process (a worker that runs many jobs); MMSA_DATA_REUSE=0 in the environment overrides. */
export function enableFileReuse(env: NodeJS.ProcessEnv = process.env, limitBytes = DEFAULT_MAX_BYTES): void {
  enabled = env['MMSA_DATA_REUSE'] !== '0';
  maxBytes = limitBytes;
  entry = undefined;
}

/** How many reads this process answered from the cache (reported by tests and the tune bench). */
export function fileReuseHits(): number {
  return hits;
}

function identityOf(file: string): { id: string; size: number } | undefined {
  try {
    const st = statSync(file);
    return { id: `${file}\0${st.size}\0${st.mtimeMs}\0${st.ino}\0${st.dev}`, size: st.size };
  } catch {
    return undefined;
  }
}

/**
 * Reads `file` through `read`, or answers from the cache when this process read the same unchanged file with the same
 * keys last. The value returned is always the caller's own (never shared with the cache or an earlier caller).
 */
export async function readWithReuse(file: string, keys: readonly string[], read: () => Promise<PyValue>): Promise<PyValue> {
  if (!enabled) return read();
  const ident = identityOf(file);
  const keyList = [...keys].sort().join('\0');
  if (ident && entry && entry.identity === ident.id && entry.keys === keyList) {
    hits++;
    return clonePy(entry.value);
  }
  const value = await read();
  // Checked again after reading: a file replaced while it was read is not kept.
  const after = identityOf(file);
  entry = ident && after && after.id === ident.id && ident.size <= maxBytes ? { identity: ident.id, keys: keyList, value: clonePy(value) } : undefined;
  return value;
}

/** A deep copy of a reader value: containers and array storage are new, immutable leaves are shared. */
export function clonePy(v: PyValue): PyValue {
  if (v instanceof NDArray) {
    const data = Array.isArray(v.data) ? v.data.slice() : v.data.slice();
    return new NDArray(v.dtype, v.descr, [...v.shape], data);
  }
  if (v instanceof Map) {
    const m = new Map<PyValue, PyValue>();
    for (const [k, x] of v) m.set(k, clonePy(x));
    return m;
  }
  if (Array.isArray(v)) {
    const a = v.map(clonePy);
    return isPyTuple(v) ? markTuple(a) : a;
  }
  if (v instanceof Set) return new Set([...v].map(clonePy));
  if (v instanceof Uint8Array) return v.slice();
  return v;
}
