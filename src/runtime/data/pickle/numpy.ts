// numpy reconstruction for the pickle VM: the allowed numpy globals (_reconstruct, ndarray, dtype, scalar,
// _frombuffer), array/dtype BUILD states and filling arrays from in-file payloads. Phase 7 (execute).

import {
  type ArrayPlan,
  type ConvertOptions,
  decodeUnicodeArray,
  dtypeName,
  fortranToC,
  halfToNumber,
  makePlan,
  NumericSink,
  parseTypestr,
  stringToLatin1,
  swapInPlace,
} from './convert.js';
import type { PickleErrorKind } from './errors.js';
import { DType, LazyPayload, NDArray, PyGlobal, pyTypeName, Skipped, type PyValue } from './values.js';

/** A request from the VM to its driver: fill `dest` with the input bytes starting at absolute offset `pos`. */
export interface ReadRequest {
  pos: number;
  dest: Uint8Array;
}

type Reader<T> = Generator<ReadRequest, T, number>;

/** What numpy reconstruction needs from the VM: input access, errors, skipping and the output budget. */
export interface NumpyHost {
  readonly opts: ConvertOptions;
  fail(kind: PickleErrorKind, message: string, hint?: string, cause?: unknown): never;
  readRange(pos: number, dest: Uint8Array): Reader<void>;
  streamUtf8Latin1(lz: LazyPayload, sink: NumericSink): Reader<void>;
  materialise(l: LazyPayload): Reader<PyValue>;
  materialiseBytes(l: LazyPayload, expected?: number): Reader<Uint8Array>;
  /** Reusable staging buffer for converted payloads. */
  stage(): Uint8Array;
  /** The key path of a value about to take stack slot `slot` when that path is skipped, else undefined. */
  skippedPath(slot: number): readonly (string | number)[] | undefined;
  /** Counts output bytes against the reader's budget (fails before anything is allocated when exceeded). */
  charge(bytes: number): void;
  /** Registers an array made by numpy.ndarray(...) that must still receive a BUILD state. */
  expectBuild(arr: NDArray): void;
}

export type NumpyFn = 'reconstruct' | 'ndarray' | 'dtype' | 'scalar' | 'frombuffer';

/** The numpy globals a data file may name (numpy 1.x `numpy.core`, numpy 2.x `numpy._core`). */
export const NUMPY_GLOBALS: Readonly<Record<string, NumpyFn>> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  'numpy.core.multiarray.scalar': 'scalar',
  'numpy._core.multiarray.scalar': 'scalar',
  'numpy.core.numeric._frombuffer': 'frombuffer',
  'numpy._core.numeric._frombuffer': 'frombuffer',
};

const NUMPY_FNS: ReadonlySet<string> = new Set(Object.values(NUMPY_GLOBALS));

export function isNumpyFn(fn: string): fn is NumpyFn {
  return NUMPY_FNS.has(fn);
}

const UNSUPPORTED_DTYPE_HINT = 'convert the array to a numeric dtype (float32/int64/...) or str before saving';

/** Calls one of the numpy globals with REDUCE/NEWOBJ arguments. `slot` is the stack index the result will take. */
export function* callNumpy(host: NumpyHost, fn: NumpyFn, q: string, a: unknown[], slot: number): Reader<unknown> {
  const bad: (msg: string) => never = (msg) =>
    host.fail('badArgs', `${q}(...): ${msg}`, 'the pickle is corrupt or was written by an unsupported numpy version');
  switch (fn) {
    case 'reconstruct': {
      const cls = a[0];
      if (!(cls instanceof PyGlobal) || cls.fn !== 'ndarray') bad(`expected numpy.ndarray as the class, got ${pyTypeName(cls)}`);
      return new NDArray('int8', '|i1', [0], new Int8Array(0), true);
    }
    case 'ndarray': {
      if (a.length < 1 || a.length > 6) bad(`takes 1 to 6 arguments, got ${a.length}`);
      const shape = shapeOf(host, a[0], bad);
      const dt = a.length >= 2 && a[1] !== null ? asDtype(a[1], bad) : parseTypestr('f8')!;
      const buffer = a[2];
      if (buffer !== undefined && buffer !== null) {
        if ((a[3] ?? 0) !== 0 || (a[4] ?? null) !== null) bad('offset/strides are not supported');
        const order = a[5] ?? 'C';
        const arr = new NDArray('int8', '|i1', [0], new Int8Array(0), true);
        return yield* fillArray(host, arr, dt, shape, order === 'F', buffer, slot);
      }
      const arr = new NDArray(dtypeName(dt) ?? 'object', dt.descr, shape, new Int8Array(0), true);
      host.expectBuild(arr);
      return arr;
    }
    case 'dtype': {
      const ts = a[0];
      if (typeof ts !== 'string') bad(`expected a type string, got ${pyTypeName(ts)}`);
      const dt = parseTypestr(ts);
      if (dt === undefined) host.fail('dtype', `unsupported numpy dtype '${ts}'`, UNSUPPORTED_DTYPE_HINT);
      return dt;
    }
    case 'scalar':
      return yield* scalar(host, asDtype(a[0], bad), a[1], bad);
    case 'frombuffer': {
      if (a.length !== 4) bad(`expected 4 arguments (buffer, dtype, shape, order), got ${a.length}`);
      const dt = asDtype(a[1], bad);
      const shape = shapeOf(host, a[2], bad);
      const order = a[3];
      if (order !== 'C' && order !== 'F' && order !== 'A' && order !== 'K') bad(`order must be 'C' or 'F', got ${String(order)}`);
      const arr = new NDArray('int8', '|i1', [0], new Int8Array(0), true);
      return yield* fillArray(host, arr, dt, shape, order === 'F', a[0], slot);
    }
  }
}

/** BUILD on a numpy array (its __setstate__) or dtype; returns what goes back on the stack. */
export function* buildNumpy(host: NumpyHost, obj: NDArray | DType, state: unknown, slot: number): Reader<unknown> {
  if (obj instanceof DType) {
    buildDtype(host, obj, state);
    return obj;
  }
  if (!obj.pending) host.fail('corrupt', 'BUILD on a numpy array that already has its data', CORRUPT_HINT);
  if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
    host.fail('corrupt', `numpy array state must be a tuple (version, shape, dtype, is_fortran, data), got ${pyTypeName(state)}`, CORRUPT_HINT);
  }
  const s = state.length === 5 ? state.slice(1) : state;
  const bad: (msg: string) => never = (msg) => host.fail('badArgs', `numpy array state: ${msg}`, 'the pickle is corrupt or was written by an unsupported numpy version');
  const shape = shapeOf(host, s[0], bad);
  const dt = asDtype(s[1], bad);
  if (s[2] !== true && s[2] !== false && s[2] !== 0 && s[2] !== 1) bad(`is_fortran must be a bool, got ${pyTypeName(s[2])}`);
  return yield* fillArray(host, obj, dt, shape, s[2] === true || s[2] === 1, s[3], slot);
}

/** Fails when an array made by numpy.ndarray(...) never received its data. */
export function checkArraysBuilt(host: NumpyHost, arrays: readonly NDArray[]): void {
  for (const a of arrays) {
    if (a.pending && a.replacement === undefined && a.size > 0) {
      host.fail('uninitialised', `numpy.ndarray(shape=(${a.shape.join(', ')})) was created without data (no BUILD state follows)`, 'the writer stored an uninitialised array; re-save the data with numpy');
    }
  }
}

const CORRUPT_HINT = 'the pickle is corrupt or was not written by CPython pickle; re-save it with protocol 4';

function asDtype(v: unknown, bad: (m: string) => never): DType {
  if (v instanceof DType) return v;
  if (typeof v === 'string') {
    const dt = parseTypestr(v);
    if (dt !== undefined) return dt;
  }
  return bad(`expected a numpy dtype, got ${pyTypeName(v)}`);
}

function shapeOf(host: NumpyHost, v: unknown, bad: (m: string) => never): number[] {
  const dims = typeof v === 'number' ? [v] : Array.isArray(v) ? v : undefined;
  if (dims === undefined) return bad(`shape must be a tuple of int, got ${pyTypeName(v)}`);
  if (dims.length > 64) bad(`shape has ${dims.length} dimensions`);
  let n = 1;
  const out: number[] = [];
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) bad(`invalid dimension ${String(d)} in shape`);
    n *= d;
    if (!Number.isSafeInteger(n)) host.fail('tooLarge', `shape (${dims.join(', ')}) has more elements than this runtime can address`);
    out.push(d);
  }
  return out;
}

function buildDtype(host: NumpyHost, dt: DType, state: unknown): void {
  if (!Array.isArray(state) || state.length < 8) host.fail('corrupt', `numpy.dtype state must be a tuple of 8 or 9 items, got ${pyTypeName(state)}`, CORRUPT_HINT);
  const [, order, sub, names, fields, elsize] = state as unknown[];
  if (order === '<' || order === '>' || order === '|') dt.byteorder = order;
  else if (order === '=') dt.byteorder = '<';
  else host.fail('corrupt', `numpy.dtype byte order ${String(order)}`, CORRUPT_HINT);
  if (sub !== null || names !== null || fields !== null) dt.structured = true;
  if ((dt.kind === 'U' || dt.kind === 'S' || dt.kind === 'V') && typeof elsize === 'number' && elsize > 0) dt.itemsize = elsize;
  if (dt.itemsize > 1 && dt.byteorder === '|' && dt.kind !== 'O' && dt.kind !== 'U' && dt.kind !== 'S' && dt.kind !== 'V') {
    dt.byteorder = '<';
  }
}

/**
 * Gives `arr` its dtype, shape and data from `raw` (bytes, a lazy file range, a latin-1 str, or a list for object
 * arrays). `slot` is the stack index the array will occupy, for its key path.
 */
function* fillArray(host: NumpyHost, arr: NDArray, dt: DType, shape: number[], fortran: boolean, raw: unknown, slot: number): Reader<unknown> {
  let n = 1;
  for (const d of shape) n *= d;
  const name = dtypeName(dt);
  if (name === undefined || dt.structured) {
    host.fail('dtype', `unsupported numpy dtype ${dt.structured ? `structured ${dt.typestr}` : dt.descr} for an array`, UNSUPPORTED_DTYPE_HINT);
  }
  arr.pending = false;
  arr.dtype = name;
  arr.descr = dt.descr;
  arr.shape = shape;
  const skipped = host.skippedPath(slot);
  if (skipped !== undefined) {
    if (raw instanceof LazyPayload) raw.consumed = true;
    const marker = new Skipped('ndarray', skipped, { dtype: name, shape });
    arr.replacement = marker;
    arr.data = new Int8Array(0);
    return marker;
  }
  if (name === 'object') {
    if (!Array.isArray(raw)) host.fail('dtype', `object array data must be a list, got ${pyTypeName(raw)}`);
    if (raw.length !== n) host.fail('payloadLength', `object array has ${raw.length} items, shape (${shape.join(', ')}) needs ${n}`);
    host.charge(8 * n);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const x = raw[i];
      if (typeof x === 'string') out[i] = x;
      else if (x instanceof LazyPayload && (x.kind === 'str8' || x.kind === 'utf8')) {
        x.consumed = true;
        out[i] = (yield* host.materialise(x)) as string;
      } else host.fail('dtype', `object array item ${i} is a ${pyTypeName(x)}; only arrays of str are supported`, 'convert the object array to a list or a numeric array before saving');
    }
    arr.data = out; // object arrays are pickled as a list in C order whatever is_fortran says
    return arr;
  }
  const expected = n * dt.itemsize;
  let bytes: Uint8Array | undefined;
  let lazy: LazyPayload | undefined;
  if (raw instanceof Uint8Array) bytes = raw;
  else if (typeof raw === 'string') {
    bytes = stringToLatin1(raw);
    if (bytes === undefined) host.fail('text', 'array data given as str holds a code point above 255');
  } else if (raw instanceof LazyPayload && raw.kind !== 'utf8') {
    lazy = raw;
    raw.consumed = true;
  } else host.fail('badArgs', `array data must be bytes, got ${pyTypeName(raw)}`);
  const have = bytes !== undefined ? bytes.length : lazy!.kind === 'utf8latin1' ? undefined : lazy!.length;
  if (have !== undefined && have !== expected) {
    host.fail(
      'payloadLength',
      `array payload has ${have} bytes, but shape (${shape.join(', ')}) x ${dt.itemsize} bytes (${dt.descr}) needs ${expected}`,
      'the file is corrupt (payload and header disagree)',
    );
  }
  if (lazy !== undefined && lazy.kind === 'utf8latin1' && (lazy.length < expected || lazy.length > 2 * expected)) {
    host.fail('payloadLength', `latin-1 array payload of ${lazy.length} UTF-8 bytes cannot hold the ${expected} bytes that shape (${shape.join(', ')}) x ${dt.descr} needs`);
  }
  // float16 becomes float32 by default: twice the bytes of the file.
  host.charge(name === 'float16' && host.opts.floatAs === 'float32' ? 2 * expected : expected);
  if (name === 'str') {
    const rawBytes = bytes ?? (yield* host.materialiseBytes(lazy!, expected));
    let strs = decodeUnicodeArray(rawBytes, dt.itemsize, dt.byteorder === '>', n);
    if (strs === undefined) host.fail('text', 'numpy unicode array holds an invalid code point');
    if (fortran) strs = fortranToC(strs, shape);
    arr.data = strs;
    return arr;
  }
  let plan: ArrayPlan;
  try {
    plan = makePlan(dt, name, shape, n, fortran, host.opts);
  } catch (e) {
    if (e instanceof RangeError) {
      host.fail('tooLarge', `cannot allocate ${name} array of shape (${shape.join(', ')}): ${e.message}`, 'skip this key (options.keys / options.skip) or split the array into smaller ones', e);
    }
    throw e;
  }
  arr.data = plan.out;
  const direct = plan.mode === 'copy' && plan.fortran === undefined;
  if (bytes !== undefined) {
    if (direct) {
      new Uint8Array(plan.out.buffer, plan.out.byteOffset, expected).set(bytes);
      if (plan.swap) swapInPlace(plan.out.buffer, plan.out.byteOffset, expected, plan.itemsize);
    } else {
      const sink = new NumericSink(host.stage(), plan);
      if (!sink.feed(bytes) || !sink.complete()) host.fail('payloadLength', 'array payload does not match its shape');
    }
    return arr;
  }
  const lz = lazy!;
  if (lz.kind === 'utf8latin1') {
    yield* host.streamUtf8Latin1(lz, new NumericSink(host.stage(), plan));
  } else if (direct) {
    const piece = 1 << 30;
    for (let off = 0; off < expected; off += piece) {
      const m = Math.min(piece, expected - off);
      yield* host.readRange(lz.pos + off, new Uint8Array(plan.out.buffer, plan.out.byteOffset + off, m));
    }
    if (plan.swap) swapInPlace(plan.out.buffer, plan.out.byteOffset, expected, plan.itemsize);
  } else {
    const sink = new NumericSink(host.stage(), plan);
    let pos = lz.pos;
    const end = lz.pos + lz.length;
    while (pos < end) {
      const sp = sink.space();
      const m = Math.min(sp.length, end - pos);
      yield* host.readRange(pos, sp.subarray(0, m));
      pos += m;
      sink.commit(m);
    }
    if (!sink.complete()) host.fail('payloadLength', 'array payload does not match its shape');
  }
  return arr;
}

function* scalar(host: NumpyHost, dt: DType, data: unknown, bad: (m: string) => never): Reader<unknown> {
  const name = dtypeName(dt);
  if (name === 'object') return data;
  if (name === undefined || dt.structured) host.fail('dtype', `unsupported numpy scalar dtype ${dt.descr}`);
  let b: Uint8Array | undefined;
  if (data instanceof Uint8Array) b = data;
  else if (typeof data === 'string') b = stringToLatin1(data);
  else if (data instanceof LazyPayload) {
    data.consumed = true;
    b = yield* host.materialiseBytes(data, data.kind === 'utf8latin1' ? dt.itemsize : undefined);
  }
  if (b === undefined) return bad(`scalar data must be bytes, got ${pyTypeName(data)}`);
  if (b.length !== dt.itemsize) {
    host.fail('payloadLength', `numpy scalar of dtype ${dt.descr} needs ${dt.itemsize} bytes, got ${b.length}`, 'the file is corrupt');
  }
  const le = dt.byteorder !== '>';
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (name) {
    case 'float16': return halfToNumber(v.getUint16(0, le));
    case 'float32': return v.getFloat32(0, le);
    case 'float64': return v.getFloat64(0, le);
    case 'int8': return v.getInt8(0);
    case 'int16': return v.getInt16(0, le);
    case 'int32': return v.getInt32(0, le);
    case 'uint8': return v.getUint8(0);
    case 'uint16': return v.getUint16(0, le);
    case 'uint32': return v.getUint32(0, le);
    case 'int64': {
      const x = v.getBigInt64(0, le);
      return host.opts.intAs === 'native' ? x : Number(x);
    }
    case 'uint64': {
      const x = v.getBigUint64(0, le);
      return host.opts.intAs === 'native' ? x : Number(x);
    }
    case 'bool': return v.getUint8(0) !== 0;
    case 'str': {
      const s = decodeUnicodeArray(b, dt.itemsize, !le, 1);
      if (s === undefined) host.fail('text', 'numpy str scalar holds an invalid code point');
      return s[0]!;
    }
  }
  return bad('unsupported scalar');
}
