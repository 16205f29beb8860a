// Writes Python values (dicts, lists, str, numbers, numpy arrays) as a pickle that CPython's `pickle.load` and numpy
// 1.x and 2.x read, streaming array payloads straight from their typed arrays. Phase 7 (execute): data files.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MmsaError } from '../../../errors.js';
import { isPyTuple, markTuple, NDArray, type NDDtypeName, type NDTypedArray } from './values.js';

/**
 * What can be written: `null`, booleans, numbers (Python float), bigints (Python int), strings (Python str),
 * `Uint8Array` (bytes), arrays (lists; tuples when made with `pyTuple`), Maps or plain objects (dicts, in insertion
 * order), and numpy arrays (`NDArray`, see `ndarray`).
 */
export type PyWritable =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | NDArray
  | PyWritable[]
  | Map<string | number | bigint, PyWritable>
  | { [key: string]: PyWritable };

/** A Python tuple (a list otherwise). */
export function pyTuple<T extends PyWritable[]>(...items: T): T {
  return markTuple(items);
}

const TYPESTR: Partial<Record<NDDtypeName, string>> = {
  float32: 'f4',
  float64: 'f8',
  int8: 'i1',
  int16: 'i2',
  int32: 'i4',
  int64: 'i8',
  uint8: 'u1',
  uint16: 'u2',
  uint32: 'u4',
  uint64: 'u8',
  bool: 'b1',
};

function dtypeOfTyped(data: NDTypedArray): NDDtypeName {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint64';
}

/**
 * A numpy array of `shape` holding `data` in C order; the dtype follows the typed array (Float32Array -> float32,
 * BigInt64Array -> int64, ...), or `'bool'` for a Uint8Array of 0/1.
 */
export function ndarray(data: NDTypedArray, shape: number[], dtype: NDDtypeName = dtypeOfTyped(data)): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new MmsaError('MSA6016', `ndarray: shape (${shape.join(', ')}) holds ${n} elements, data has ${data.length}`, { hint: 'pass data of the shape\'s size' });
  const ts = TYPESTR[dtype];
  if (ts === undefined) throw new MmsaError('MSA6016', `ndarray: dtype ${dtype} cannot be written`, { hint: `use one of ${Object.keys(TYPESTR).join(', ')}` });
  return new NDArray(dtype, `${ts.endsWith('1') ? '|' : '<'}${ts}`, shape, data);
}

/** An int64 numpy array from JS numbers (ids, lengths). */
export function int64Array(values: ArrayLike<number>, shape: number[] = [values.length]): NDArray {
  return ndarray(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))), shape);
}

// Opcodes (pickle protocol 4; framing is optional and left out).
const OP = {
  PROTO: 0x80, STOP: 0x2e, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89, BININT: 0x4a, LONG1: 0x8a, BINFLOAT: 0x47,
  SHORT_BINUNICODE: 0x8c, BINUNICODE: 0x58, BINUNICODE8: 0x8d, SHORT_BINBYTES: 0x43, BINBYTES: 0x42, BINBYTES8: 0x8e,
  EMPTY_LIST: 0x5d, EMPTY_DICT: 0x7d, MARK: 0x28, APPENDS: 0x65, SETITEMS: 0x75, TUPLE: 0x74,
  TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** Items per APPENDS / SETITEMS batch, as CPython's pickler. */
const BATCH = 1000;

/** Buffered sink: small opcodes collect in a buffer, large payloads go straight to the file. */
class Sink {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;
  bytes = 0;
  constructor(private readonly fd: number) {}

  private room(n: number): void {
    if (this.len + n > this.buf.length) this.flush();
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
    this.bytes += 1;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
    this.bytes += 4;
  }

  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.len);
    this.len += 8;
    this.bytes += 8;
  }

  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v, this.len);
    this.len += 4;
    this.bytes += 4;
  }

  f64be(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    this.bytes += 8;
  }

  raw(b: Uint8Array): void {
    if (b.byteLength <= 4096) {
      this.room(b.byteLength);
      this.buf.set(b, this.len);
      this.len += b.byteLength;
    } else {
      this.flush();
      let off = 0;
      while (off < b.byteLength) off += writeSync(this.fd, b, off, b.byteLength - off);
    }
    this.bytes += b.byteLength;
  }

  flush(): void {
    let off = 0;
    while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    this.len = 0;
  }
}

class Pickler {
  private memo = new Map<string, number>();
  constructor(private readonly out: Sink) {}

  dump(v: PyWritable): void {
    this.out.byte(OP.PROTO);
    this.out.byte(4);
    this.value(v, '');
    this.out.byte(OP.STOP);
  }

  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) {
      this.out.byte(OP.SHORT_BINUNICODE);
      this.out.byte(b.length);
    } else if (b.length < 2 ** 32) {
      this.out.byte(OP.BINUNICODE);
      this.out.u32(b.length);
    } else {
      this.out.byte(OP.BINUNICODE8);
      this.out.u64(b.length);
    }
    this.out.raw(b);
  }

  private bytes(b: Uint8Array): void {
    if (b.byteLength < 256) {
      this.out.byte(OP.SHORT_BINBYTES);
      this.out.byte(b.byteLength);
    } else if (b.byteLength < 2 ** 32) {
      this.out.byte(OP.BINBYTES);
      this.out.u32(b.byteLength);
    } else {
      this.out.byte(OP.BINBYTES8);
      this.out.u64(b.byteLength);
    }
    this.out.raw(b);
  }

  private int(v: bigint): void {
    if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      this.out.byte(OP.BININT);
      this.out.i32(Number(v));
      return;
    }
    // LONG1: little-endian two's complement, as short as the sign allows.
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      const b = Number(x & 0xffn);
      bytes.push(b);
      x >>= 8n;
      if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
    }
    this.out.byte(OP.LONG1);
    this.out.byte(bytes.length);
    this.out.raw(Uint8Array.from(bytes));
  }

  /** A module-level name, memoized so each is spelled once (numpy.ndarray, numpy.dtype). */
  private global(module: string, name: string): void {
    const key = `${module}.${name}`;
    const at = this.memo.get(key);
    if (at !== undefined) {
      if (at < 256) {
        this.out.byte(OP.BINGET);
        this.out.byte(at);
      } else {
        this.out.byte(OP.LONG_BINGET);
        this.out.u32(at);
      }
      return;
    }
    this.str(module);
    this.str(name);
    this.out.byte(OP.STACK_GLOBAL);
    this.out.byte(OP.MEMOIZE);
    this.memo.set(key, this.memo.size);
  }

  private array(a: NDArray, path: string): void {
    const ts = TYPESTR[a.dtype];
    if (ts === undefined || Array.isArray(a.data)) {
      throw new MmsaError('MSA6016', `cannot write ${path || 'the value'}: numpy arrays of ${a.dtype} are not supported by the writer`, { hint: 'write str arrays as lists of str' });
    }
    // numpy.ndarray((0,), 'b') then __setstate__: what numpy's own _reconstruct does, without naming numpy's private
    // core module (numpy.core vs numpy._core differ between numpy 1 and 2).
    this.global('numpy', 'ndarray');
    this.int(0n);
    this.out.byte(OP.TUPLE1);
    this.str('b');
    this.out.byte(OP.TUPLE2);
    this.out.byte(OP.REDUCE);
    // state: (1, shape, dtype, is_fortran, raw bytes)
    this.out.byte(OP.MARK);
    this.int(1n);
    this.out.byte(OP.MARK);
    for (const d of a.shape) this.int(BigInt(d));
    this.out.byte(OP.TUPLE);
    this.global('numpy', 'dtype');
    this.str(ts);
    this.out.byte(OP.NEWFALSE);
    this.out.byte(OP.NEWTRUE);
    this.out.byte(OP.TUPLE3);
    this.out.byte(OP.REDUCE);
    this.out.byte(OP.MARK);
    this.int(3n);
    this.str(ts.endsWith('1') ? '|' : '<');
    for (let i = 0; i < 3; i++) this.out.byte(OP.NONE);
    this.int(-1n);
    this.int(-1n);
    this.int(0n);
    this.out.byte(OP.TUPLE);
    this.out.byte(OP.BUILD);
    this.out.byte(OP.NEWFALSE);
    const d = a.data;
    this.bytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    this.out.byte(OP.TUPLE);
    this.out.byte(OP.BUILD);
  }

  private value(v: PyWritable, path: string): void {
    if (v === null) return this.out.byte(OP.NONE);
    if (typeof v === 'boolean') return this.out.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
    if (typeof v === 'number') {
      this.out.byte(OP.BINFLOAT);
      return this.out.f64be(v);
    }
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (v instanceof Uint8Array) return this.bytes(v);
    if (v instanceof NDArray) return this.array(v, path);
    if (Array.isArray(v)) {
      if (isPyTuple(v)) {
        this.out.byte(OP.MARK);
        v.forEach((x, i) => this.value(x, `${path}[${i}]`));
        return this.out.byte(OP.TUPLE);
      }
      this.out.byte(OP.EMPTY_LIST);
      for (let i = 0; i < v.length; i += BATCH) {
        this.out.byte(OP.MARK);
        for (let j = i; j < Math.min(v.length, i + BATCH); j++) this.value(v[j]!, `${path}[${j}]`);
        this.out.byte(OP.APPENDS);
      }
      return;
    }
    const entries: [string | number | bigint, PyWritable][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
    this.out.byte(OP.EMPTY_DICT);
    for (let i = 0; i < entries.length; i += BATCH) {
      this.out.byte(OP.MARK);
      for (const [k, x] of entries.slice(i, i + BATCH)) {
        if (typeof k === 'string') this.str(k);
        else if (typeof k === 'bigint') this.int(k);
        else this.value(k, path);
        this.value(x, path ? `${path}.${String(k)}` : String(k));
      }
      this.out.byte(OP.SETITEMS);
    }
  }
}


/** Pickles `value` into `path` atomically (temp file beside it, renamed when complete); returns the bytes written. */
export function writePickleFile(path: string, value: PyWritable): number {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  let ok = false;
  try {
    const sink = new Sink(fd);
    new Pickler(sink).dump(value);
    sink.flush();
    ok = true;
    closeSync(fd);
    renameSync(tmp, path);
    return sink.bytes;
  } finally {
    if (!ok) {
      closeSync(fd);
      rmSync(tmp, { force: true });
    }
  }
}
