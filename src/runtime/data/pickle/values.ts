// JS representation of unpickled Python values: NDArray, Skipped markers, numpy dtypes, tuples, and the internal
// placeholders of the VM (globals, lazy payloads). Phase 7 (execute): the data layer reading feature files.

/** Typed arrays an NDArray can hold. */
export type NDTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** numpy-style dtype names the reader understands (byte order dropped). */
export type NDDtypeName =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'str'
  | 'object';

/**
 * A numpy array as read from a pickle, always in C (row-major) order.
 *
 * `dtype` is the numpy name of the array in the file (byte order dropped: `>f4` and `<f4` are both 'float32');
 * `descr` is numpy's descriptor with byte order (`<f8`, `>f4`, `|b1`, `<U14`, `|O`).
 * `data` holds the elements in C order, in the container chosen by the read options:
 *
 * | file dtype | default (`floatAs:'float32'`, `intAs:'number'`) | `floatAs:'native'` / `intAs:'native'` |
 * |---|---|---|
 * | float16 | Float32Array (converted) | Uint16Array (raw IEEE half bits) |
 * | float32 | Float32Array | Float32Array |
 * | float64 | Float32Array (converted chunk by chunk, never a float64 buffer) | Float64Array |
 * | int8/16/32, uint8/16/32 | Int8Array ... Uint32Array | same |
 * | int64 / uint64 | Float64Array (exact up to 2^53, rounded beyond) | BigInt64Array / BigUint64Array |
 * | bool | Uint8Array (0/1 bytes as stored) | same |
 * | unicode `U` / object arrays of str | string[] | string[] |
 *
 * With both options 'native' the little-endian bytes of `data` are byte-identical to numpy's C-order bytes.
 */
export class NDArray {
  dtype: NDDtypeName;
  descr: string;
  shape: number[];
  data: NDTypedArray | string[];
  readonly order = 'C' as const;
  /** @internal VM state: created by _reconstruct / ndarray(...) and not yet given its BUILD state. */
  pending: boolean;
  /** @internal set when this array's path was skipped: the VM hands out the marker instead. */
  replacement: Skipped | undefined;

  constructor(dtype: NDDtypeName, descr: string, shape: number[], data: NDTypedArray | string[], pending = false) {
    this.dtype = dtype;
    this.descr = descr;
    this.shape = shape;
    this.data = data;
    this.pending = pending;
    this.replacement = undefined;
  }

  /** Number of elements (product of the shape). */
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
}

/** What a skipped value (see `ReadPickleOptions.skip`) is replaced by. */
export class Skipped {
  readonly kind: 'ndarray' | 'list' | 'tuple' | 'dict' | 'set' | 'value';
  readonly path: readonly (string | number)[];
  readonly dtype: NDDtypeName | undefined;
  readonly shape: readonly number[] | undefined;
  /** Element count for skipped lists / tuples / dicts / sets. */
  readonly length: number | undefined;

  constructor(
    kind: Skipped['kind'],
    path: readonly (string | number)[],
    extra: { dtype?: NDDtypeName; shape?: readonly number[]; length?: number } = {},
  ) {
    this.kind = kind;
    this.path = path;
    this.dtype = extra.dtype;
    this.shape = extra.shape;
    this.length = extra.length;
  }
}

/** A numpy dtype that appears as a value of its own (rare in data files). */
export class DType {
  /** numpy kind char: f, i, u, b, U, O, or others that the reader refuses when used for arrays. */
  kind: string;
  itemsize: number;
  byteorder: '<' | '>' | '|';
  /** The type string passed to numpy.dtype(...), for messages. */
  readonly typestr: string;
  /** Set when BUILD gave field names / subarray (structured dtypes, refused for arrays). */
  structured: boolean;

  constructor(kind: string, itemsize: number, byteorder: '<' | '>' | '|', typestr: string) {
    this.kind = kind;
    this.itemsize = itemsize;
    this.byteorder = byteorder;
    this.typestr = typestr;
    this.structured = false;
  }

  /** numpy descriptor string, e.g. '<f4', '|b1', '<U14', '|O'. */
  get descr(): string {
    if (this.kind === 'O') return '|O';
    if (this.kind === 'U') return `${this.byteorder === '|' ? '<' : this.byteorder}U${this.itemsize / 4}`;
    return `${this.byteorder}${this.kind}${this.itemsize}`;
  }
}

const TUPLES = new WeakSet<object>();

/** Marks a JS array as a Python tuple (tuples and lists are both JS arrays). */
export function markTuple<T extends unknown[]>(a: T): T {
  TUPLES.add(a);
  return a;
}

/** True for arrays that were Python tuples (as opposed to lists). */
export function isPyTuple(v: unknown): boolean {
  return Array.isArray(v) && TUPLES.has(v);
}

/** Every value `readPickle` can return. Python dicts become Maps (keys of any type, insertion order kept). */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyValue, PyValue>
  | Set<PyValue>
  | NDArray
  | Skipped
  | DType
  | PyGlobal;

/** @internal A module.name reference taken from GLOBAL / STACK_GLOBAL, only ever from the allow-list. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly fn: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * @internal A large payload left in the file until its consumer (ndarray BUILD, _frombuffer, scalar) knows the dtype
 * and the destination, so array bytes are read once, straight into the final typed array.
 * - 'bytes': BINBYTES/BYTEARRAY8 contents; 'str8': py2 BINSTRING (latin-1 text or raw bytes);
 * - 'utf8': a BINUNICODE argument of _codecs.encode; 'utf8latin1': the result of encode(text, 'latin1').
 */
export class LazyPayload {
  consumed = false;
  /** The value once read from the file: every reference to this payload shares it. */
  value: PyValue | undefined = undefined;
  constructor(
    readonly pos: number,
    readonly length: number,
    readonly kind: 'bytes' | 'str8' | 'utf8' | 'utf8latin1',
  ) {}
}

/** Python type name of a VM value, for messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof LazyPayload) return v.kind === 'utf8' ? 'str' : 'bytes';
  if (Array.isArray(v)) return isPyTuple(v) ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof NDArray) return 'numpy.ndarray';
  if (v instanceof DType) return 'numpy.dtype';
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof Skipped) return 'skipped value';
  return typeof v;
}
