// Public entry points of the pickle reader: readPickle (streaming from a file with a reusable chunk buffer) and
// parsePickleBytes (in-memory, synchronous); both drive the same VM. Phase 7 (execute): loading feature files.

import { open, type FileHandle } from 'node:fs/promises';
import { MmsaError } from '../../../errors.js';
import { pickleError } from './errors.js';
import { type KeyPath, type PickleGlobalHandler, type PickleLimits, PickleVM, type ReadRequest } from './vm.js';
import type { PyValue } from './values.js';

export { NDArray, Skipped, DType, isPyTuple, PyGlobal } from './values.js';
export type { PyValue, NDTypedArray, NDDtypeName } from './values.js';
export { PICKLE_ERROR_CODES, formatKeyPath } from './errors.js';
export { PICKLE_LIMITS } from './vm.js';
export type { KeyPath, PickleGlobalHandler, PickleLimits } from './vm.js';

/**
 * Options of `readPickle` / `parsePickleBytes`.
 *
 * Number representation (see `NDArray` for the full table):
 * - `floatAs: 'float32'` (default) turns float16 and float64 arrays into Float32Array while reading, chunk by chunk,
 *   so a float64 buffer is never materialised (MMSA's loader casts every feature to float32 anyway);
 *   `'native'` keeps float64 as Float64Array and float16 as Uint16Array raw bits.
 * - `intAs: 'number'` (default) turns int64/uint64 arrays into Float64Array: exact up to 2^53, which covers ids,
 *   lengths and labels; larger magnitudes are rounded to the nearest double (no error). `'native'` gives
 *   BigInt64Array / BigUint64Array. Python ints outside +-2^53 (LONG1/LONG4) are always `bigint`.
 * With both 'native' the bytes of every numeric `data` equal numpy's little-endian C-order bytes.
 */
export interface ReadPickleOptions {
  floatAs?: 'float32' | 'native';
  intAs?: 'number' | 'native';
  /**
   * Called with the key path of dict values (['train', 'audio']) and of arrays; when it returns true for a path or
   * any of its prefixes, the value is parsed for structure only: array payloads are not read (seeked past) and the
   * value becomes a `Skipped` marker (with dtype and shape for arrays).
   */
  skip?: (path: KeyPath) => boolean;
  /** Keep only these keys inside each split (second level of the dict, e.g. ['audio', 'vision']); others are skipped. */
  keys?: readonly string[];
  /** Progress: highest input offset processed so far and the input size, called after each read. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Chunk buffer size for file reads (bytes, default 4 MiB, minimum 64 KiB). */
  chunkSize?: number;
  /** Name used in error messages (parsePickleBytes; default '<bytes>'). */
  fileName?: string;
  /**
   * Resolves persistent ids (PERSID/BINPERSID, e.g. torch's storage references). Without it they are refused (the
   * default: a data file has no business referencing external objects).
   */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * Extra allowed globals keyed by 'module.name', beyond the built-in numpy/builtins allow-list; only these are
   * accepted in addition, and they run the caller's handler, never Python semantics. Default: none.
   */
  extraGlobals?: Readonly<Record<string, PickleGlobalHandler>>;
  /**
   * Output and depth budgets (defaults: `PICKLE_LIMITS`). A file that unpacks to more than
   * `outputFloorBytes + outputPerInputByte * size` bytes fails with MSA6017, one nested deeper than `maxDepth` with
   * MSA6018, both located (offset, opcode, key path).
   */
  limits?: Partial<PickleLimits>;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;

function combinedSkip(o: ReadPickleOptions): ((p: KeyPath) => boolean) | undefined {
  const keys = o.keys;
  const user = o.skip;
  if (keys === undefined) return user;
  const keep = new Set(keys);
  return (p) => (p.length === 2 && typeof p[1] === 'string' && !keep.has(p[1])) || (user !== undefined && user(p));
}

function makeVm(o: ReadPickleOptions, fileName: string, size: number, window: Uint8Array, streaming: boolean): PickleVM {
  const floatAs = o.floatAs ?? 'float32';
  const intAs = o.intAs ?? 'number';
  if (floatAs !== 'float32' && floatAs !== 'native') throw new MmsaError('MSA6009', `readPickle: floatAs must be 'float32' or 'native', got ${String(floatAs)}`);
  if (intAs !== 'number' && intAs !== 'native') throw new MmsaError('MSA6009', `readPickle: intAs must be 'number' or 'native', got ${String(intAs)}`);
  return new PickleVM({ fileName, size, window, streaming, floatAs, intAs, skip: combinedSkip(o), onProgress: o.onProgress, persistentLoad: o.persistentLoad, extraGlobals: o.extraGlobals, limits: o.limits });
}

function internalError(fileName: string, e: unknown): MmsaError {
  if (e instanceof MmsaError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const err = pickleError('corrupt', `cannot read pickle: ${msg}`, { file: fileName }, 'the file is corrupt or uses an unsupported feature', e);
  err.details.internal = true;
  return err;
}

/** Parses an in-memory pickle synchronously (same VM as readPickle; meant for small data). */
export function parsePickleBytes(buf: Uint8Array, options: ReadPickleOptions = {}): PyValue {
  const fileName = options.fileName ?? '<bytes>';
  const vm = makeVm(options, fileName, buf.length, buf, false);
  try {
    const gen = vm.run();
    let r = gen.next();
    while (!r.done) {
      // In-memory mode keeps the whole input in the window, so reads are answered from it.
      const { pos, dest } = r.value;
      const part = buf.subarray(pos, Math.min(buf.length, pos + dest.length));
      dest.set(part);
      r = gen.next(part.length);
    }
    return r.value;
  } catch (e) {
    throw internalError(fileName, e);
  }
}

async function readSerial(fh: FileHandle, dest: Uint8Array, pos: number): Promise<number> {
  let got = 0;
  while (got < dest.length) {
    const { bytesRead } = await fh.read(dest, got, Math.min(dest.length - got, 1 << 30), pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Large requests (array payloads) are split into concurrent reads: page-cache copies then use several cores. */
const PARALLEL_MIN = 8 * 1024 * 1024;
const PARALLEL_WAYS = 4;

async function readInto(fh: FileHandle, req: ReadRequest): Promise<number> {
  const { dest, pos } = req;
  if (dest.length < PARALLEL_MIN) return readSerial(fh, dest, pos);
  const piece = Math.ceil(dest.length / PARALLEL_WAYS / 4096) * 4096;
  const parts: Promise<number>[] = [];
  for (let off = 0; off < dest.length; off += piece) {
    parts.push(readSerial(fh, dest.subarray(off, Math.min(dest.length, off + piece)), pos + off));
  }
  const got = await Promise.all(parts);
  // Bytes count only up to the first short piece (end of file).
  let total = 0;
  for (let i = 0; i < got.length; i++) {
    total += got[i]!;
    if (got[i]! < Math.min(piece, dest.length - i * piece)) break;
  }
  return total;
}

/**
 * Reads a Python pickle (protocols 2-5, as written by CPython with numpy 1.x or 2.x) from a file, streaming it through
 * a reusable chunk buffer: the file is never held in memory, and array payloads go straight into their final typed
 * arrays. Only an allow-list of globals (numpy array/dtype/scalar reconstruction, `_codecs.encode`, a few builtins)
 * is accepted; reading never executes code. Errors are `MmsaError` (MSA6001..MSA6015) with file, byte offset,
 * opcode and key path.
 */
export async function readPickle(path: string, options: ReadPickleOptions = {}): Promise<PyValue> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw pickleError('io', `cannot open pickle file: ${(e as Error).message}`, { file: path }, 'check the path (dataset_root_dir / featurePath in the config)', e);
  }
  try {
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (e) {
      throw pickleError('io', `cannot stat pickle file: ${(e as Error).message}`, { file: path }, undefined, e);
    }
    const chunk = Math.max(64 * 1024, Math.floor(options.chunkSize ?? DEFAULT_CHUNK));
    const window = new Uint8Array(Math.min(chunk, Math.max(size, 64 * 1024)));
    const vm = makeVm(options, path, size, window, true);
    try {
      const gen = vm.run();
      let r = gen.next();
      while (!r.done) {
        let got: number;
        try {
          got = await readInto(fh, r.value);
        } catch (e) {
          throw pickleError('io', `read error at byte offset ${r.value.pos}: ${(e as Error).message}`, { file: path, offset: r.value.pos }, 'check the disk / file system', e);
        }
        r = gen.next(got);
      }
      return r.value;
    } catch (e) {
      throw internalError(path, e);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
