// numpy dtype parsing and the chunked element converters that write array payloads straight into the destination
// typed array (byte swapping, float64/float16 -> float32, int64 -> float64, Fortran -> C order). Phase 7 (execute).

import { Buffer } from 'node:buffer';
import { DType, type NDDtypeName, type NDTypedArray } from './values.js';

export interface ConvertOptions {
  floatAs: 'float32' | 'native';
  intAs: 'number' | 'native';
}

const NAME_ALIASES: Record<string, [string, number]> = {
  float16: ['f', 2], half: ['f', 2], e: ['f', 2],
  float32: ['f', 4], single: ['f', 4], f: ['f', 4],
  float64: ['f', 8], double: ['f', 8], float: ['f', 8], d: ['f', 8],
  int8: ['i', 1], byte: ['i', 1], b: ['i', 1],
  int16: ['i', 2], short: ['i', 2], h: ['i', 2],
  int32: ['i', 4], intc: ['i', 4], i: ['i', 4],
  int64: ['i', 8], int: ['i', 8], long: ['i', 8], longlong: ['i', 8], l: ['i', 8], q: ['i', 8],
  uint8: ['u', 1], ubyte: ['u', 1], B: ['u', 1],
  uint16: ['u', 2], ushort: ['u', 2], H: ['u', 2],
  uint32: ['u', 4], uintc: ['u', 4], I: ['u', 4],
  uint64: ['u', 8], uint: ['u', 8], ulonglong: ['u', 8], L: ['u', 8], Q: ['u', 8],
  bool: ['b', 1], bool_: ['b', 1], '?': ['b', 1],
  object: ['O', 8], O: ['O', 8],
  str: ['U', 0], unicode: ['U', 0], U: ['U', 0],
};

/** Parses the first argument of `numpy.dtype(...)` ('f4', '<i8', 'U14', 'O8', 'float32', ...); undefined if unknown. */
export function parseTypestr(s: string): DType | undefined {
  let order: '<' | '>' | '|' | undefined;
  let rest = s;
  const c0 = s[0];
  if (c0 === '<' || c0 === '>' || c0 === '|' || c0 === '=') {
    order = c0 === '=' ? '<' : c0;
    rest = s.slice(1);
  }
  let kind: string;
  let size: number;
  const alias = NAME_ALIASES[rest];
  const m = /^([a-zA-Z])(\d+)$/.exec(rest);
  if (alias !== undefined) {
    [kind, size] = alias;
  } else if (m !== null && m[1] !== undefined && m[2] !== undefined) {
    kind = m[1];
    size = Number(m[2]);
    if (!Number.isSafeInteger(size)) return undefined;
    if (kind === 'U') size *= 4;
  } else {
    return undefined;
  }
  if (kind === 'O') size = 8;
  const single = size <= 1 || kind === 'O' || kind === 'b';
  const byteorder: '<' | '>' | '|' = single && kind !== 'U' ? '|' : (order === '|' || order === undefined ? '<' : order);
  return new DType(kind, size, byteorder, s);
}

/** numpy name of a numeric / str / object dtype, or undefined for kinds the reader refuses. */
export function dtypeName(dt: DType): NDDtypeName | undefined {
  const k = dt.kind;
  const n = dt.itemsize;
  if (k === 'f') return n === 2 ? 'float16' : n === 4 ? 'float32' : n === 8 ? 'float64' : undefined;
  if (k === 'i') return n === 1 ? 'int8' : n === 2 ? 'int16' : n === 4 ? 'int32' : n === 8 ? 'int64' : undefined;
  if (k === 'u') return n === 1 ? 'uint8' : n === 2 ? 'uint16' : n === 4 ? 'uint32' : n === 8 ? 'uint64' : undefined;
  if (k === 'b') return n === 1 ? 'bool' : undefined;
  if (k === 'U') return 'str';
  if (k === 'O') return 'object';
  return undefined;
}

type TypedCtor = new (buffer: ArrayBufferLike | number, byteOffset?: number, length?: number) => NDTypedArray;

type Mode = 'copy' | 'f64to32' | 'f16to32' | 'i64toF64' | 'u64toF64';

/** Largest element count of one typed array on this runtime (V8 on 64-bit: 2^32). */
export const MAX_TYPED_LENGTH = 2 ** 32;

/** How one numeric array is converted; `out` is allocated by `makePlan`. */
export interface ArrayPlan {
  name: NDDtypeName;
  itemsize: number;
  n: number;
  mode: Mode;
  swap: boolean;
  /** Constructor of the source element view (same as the output's for 'copy'). */
  src: TypedCtor;
  outCtor: TypedCtor;
  out: NDTypedArray;
  /** Fortran-order scatter state (undefined for C order). */
  fortran: FortranScatter | undefined;
}

interface FortranScatter {
  shape: number[];
  cStrides: number[];
  idx: number[];
  cIdx: number;
  tmp: NDTypedArray | undefined;
}

function srcCtorFor(dt: DType): TypedCtor {
  const k = dt.kind;
  const n = dt.itemsize;
  if (k === 'f') return (n === 2 ? Uint16Array : n === 4 ? Float32Array : Float64Array) as TypedCtor;
  if (k === 'i') return (n === 1 ? Int8Array : n === 2 ? Int16Array : n === 4 ? Int32Array : BigInt64Array) as TypedCtor;
  return (n === 1 ? Uint8Array : n === 2 ? Uint16Array : n === 4 ? Uint32Array : BigUint64Array) as TypedCtor;
}

/**
 * Picks the output container for a numeric dtype. Returns undefined for non-numeric dtypes. Throws RangeError when
 * the runtime cannot allocate the array (the caller turns it into MSA6012).
 */
export function makePlan(dt: DType, name: NDDtypeName, shape: number[], n: number, fortran: boolean, opts: ConvertOptions): ArrayPlan {
  let mode: Mode = 'copy';
  const src = srcCtorFor(dt);
  let outCtor: TypedCtor = src;
  if (name === 'float16' && opts.floatAs === 'float32') {
    mode = 'f16to32';
    outCtor = Float32Array as TypedCtor;
  } else if (name === 'float64' && opts.floatAs === 'float32') {
    mode = 'f64to32';
    outCtor = Float32Array as TypedCtor;
  } else if (name === 'int64' && opts.intAs === 'number') {
    mode = 'i64toF64';
    outCtor = Float64Array as TypedCtor;
  } else if (name === 'uint64' && opts.intAs === 'number') {
    mode = 'u64toF64';
    outCtor = Float64Array as TypedCtor;
  }
  if (n > MAX_TYPED_LENGTH) throw new RangeError(`array of ${n} elements exceeds the typed-array limit of ${MAX_TYPED_LENGTH}`);
  const out = new outCtor(n);
  let scatter: FortranScatter | undefined;
  let nontrivial = 0;
  for (const d of shape) if (d > 1) nontrivial++;
  if (fortran && nontrivial > 1 && n > 0) {
    const cStrides = new Array<number>(shape.length).fill(1);
    for (let d = shape.length - 2; d >= 0; d--) cStrides[d] = (cStrides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
    scatter = { shape: [...shape], cStrides, idx: new Array<number>(shape.length).fill(0), cIdx: 0, tmp: undefined };
  }
  return { name, itemsize: dt.itemsize, n, mode, swap: dt.byteorder === '>' && dt.itemsize > 1, src, outCtor, out, fortran: scatter };
}

export function swapInPlace(buf: ArrayBufferLike, byteOffset: number, byteLength: number, itemsize: number): void {
  // Buffer views are limited to 4 GiB on Node 20: swap in 1 GiB pieces (multiples of 8 bytes).
  const piece = 2 ** 30;
  for (let off = 0; off < byteLength; off += piece) {
    const b = Buffer.from(buf as ArrayBuffer, byteOffset + off, Math.min(piece, byteLength - off));
    if (itemsize === 2) b.swap16();
    else if (itemsize === 4) b.swap32();
    else if (itemsize === 8) b.swap64();
  }
}

let HALF_TABLE: Float32Array | undefined;
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    let v: number;
    if (e === 0) v = f * 2 ** -24;
    else if (e === 31) v = f === 0 ? Infinity : NaN;
    else v = (1 + f / 1024) * 2 ** (e - 15);
    t[h] = s * v;
  }
  HALF_TABLE = t;
  return t;
}

/** Converts one IEEE half (raw bits) to a number. */
export function halfToNumber(bits: number): number {
  return halfTable()[bits & 0xffff] ?? NaN;
}

/** Converts `count` source elements at the start of `buf` (already in host byte order) into `dst` at `at`. */
function convertInto(plan: ArrayPlan, buf: ArrayBuffer, count: number, dst: NDTypedArray, at: number): void {
  switch (plan.mode) {
    case 'copy':
      (dst as Float32Array).set(new plan.src(buf, 0, count) as Float32Array, at);
      return;
    case 'f64to32':
      (dst as Float32Array).set(new Float64Array(buf, 0, count), at);
      return;
    case 'f16to32': {
      const t = halfTable();
      const s = new Uint16Array(buf, 0, count);
      const d = dst as Float32Array;
      for (let i = 0; i < count; i++) d[at + i] = t[s[i]!]!;
      return;
    }
    case 'i64toF64': {
      const s = new Int32Array(buf, 0, count * 2);
      const d = dst as Float64Array;
      for (let i = 0, j = 0; i < count; i++, j += 2) d[at + i] = s[j + 1]! * 4294967296 + (s[j]! >>> 0);
      return;
    }
    case 'u64toF64': {
      const s = new Uint32Array(buf, 0, count * 2);
      const d = dst as Float64Array;
      for (let i = 0, j = 0; i < count; i++, j += 2) d[at + i] = s[j + 1]! * 4294967296 + s[j]!;
      return;
    }
  }
}

function scatterFortran(sc: FortranScatter, src: NDTypedArray, count: number, out: NDTypedArray): void {
  const { shape, cStrides, idx } = sc;
  const nd = shape.length;
  let c = sc.cIdx;
  const s0 = shape[0]!;
  const st0 = cStrides[0]!;
  const o = out as Float64Array;
  const s = src as Float64Array;
  for (let k = 0; k < count; k++) {
    o[c] = s[k]!;
    // advance the Fortran-order multi-index: axis 0 fastest
    idx[0]!++;
    c += st0;
    if (idx[0]! === s0) {
      idx[0] = 0;
      c -= s0 * st0;
      for (let d = 1; d < nd; d++) {
        idx[d]!++;
        c += cStrides[d]!;
        if (idx[d]! < shape[d]!) break;
        idx[d] = 0;
        c -= shape[d]! * cStrides[d]!;
      }
    }
  }
  sc.cIdx = c;
}

/**
 * Receives the raw bytes of one array in arbitrary pieces through an aligned staging buffer and converts whole
 * elements as they arrive. `space()` / `commit(n)` let callers read from the file straight into the staging area.
 */
export class NumericSink {
  private fill = 0;
  /** Elements written so far. */
  done = 0;

  constructor(
    private readonly stage: Uint8Array,
    readonly plan: ArrayPlan,
  ) {}

  /** Free staging space; never empty while elements remain. */
  space(): Uint8Array {
    return this.stage.subarray(this.fill);
  }

  /** Bytes still expected. */
  get remainingBytes(): number {
    return (this.plan.n - this.done) * this.plan.itemsize - this.fill;
  }

  /** Accounts `m` new bytes written into `space()`; returns false if more bytes arrived than the array holds. */
  commit(m: number): boolean {
    this.fill += m;
    const plan = this.plan;
    const isz = plan.itemsize;
    const count = Math.floor(this.fill / isz);
    if (this.done + count > plan.n) return false;
    if (count > 0) {
      const buf = this.stage.buffer as ArrayBuffer;
      if (plan.swap) swapInPlace(buf, 0, count * isz, isz);
      const sc = plan.fortran;
      if (sc === undefined) {
        convertInto(plan, buf, count, plan.out, this.done);
      } else {
        if (sc.tmp === undefined || sc.tmp.length < count) sc.tmp = new plan.outCtor(Math.floor(this.stage.length / isz));
        convertInto(plan, buf, count, sc.tmp, 0);
        scatterFortran(sc, sc.tmp, count, plan.out);
      }
      this.done += count;
      const used = count * isz;
      const rest = this.fill - used;
      if (rest > 0) this.stage.copyWithin(0, used, this.fill);
      this.fill = rest;
    }
    return true;
  }

  /** Feeds an in-memory byte array; returns false on overflow. */
  feed(bytes: Uint8Array): boolean {
    let off = 0;
    while (off < bytes.length) {
      const sp = this.space();
      const m = Math.min(sp.length, bytes.length - off);
      sp.set(bytes.subarray(off, off + m));
      off += m;
      if (!this.commit(m)) return false;
    }
    return true;
  }

  /** True when exactly n elements arrived and no partial element is left over. */
  complete(): boolean {
    return this.done === this.plan.n && this.fill === 0;
  }
}

/** Decodes numpy fixed-width UTF-32 strings (trailing NULs stripped) in C order; undefined on an invalid code point. */
export function decodeUnicodeArray(raw: Uint8Array, itemsize: number, bigEndian: boolean, n: number): string[] | undefined {
  const chars = itemsize / 4;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Array<string>(n);
  const cps: number[] = [];
  for (let e = 0; e < n; e++) {
    cps.length = 0;
    const base = e * itemsize;
    let end = chars;
    while (end > 0 && dv.getUint32(base + (end - 1) * 4, !bigEndian) === 0) end--;
    for (let c = 0; c < end; c++) {
      const cp = dv.getUint32(base + c * 4, !bigEndian);
      if (cp > 0x10ffff) return undefined;
      cps.push(cp);
    }
    let s = '';
    for (let i = 0; i < cps.length; i += 4096) s += String.fromCodePoint(...cps.slice(i, i + 4096));
    out[e] = s;
  }
  return out;
}

/** Fortran -> C reordering for string arrays (small; done on the finished list). */
export function fortranToC<T>(items: T[], shape: number[]): T[] {
  const n = items.length;
  const nd = shape.length;
  if (nd <= 1 || n === 0) return items;
  const out = new Array<T>(n);
  const cStrides = new Array<number>(nd).fill(1);
  for (let d = nd - 2; d >= 0; d--) cStrides[d] = cStrides[d + 1]! * shape[d + 1]!;
  const idx = new Array<number>(nd).fill(0);
  for (let k = 0; k < n; k++) {
    let c = 0;
    for (let d = 0; d < nd; d++) c += idx[d]! * cStrides[d]!;
    out[c] = items[k]!;
    for (let d = 0; d < nd; d++) {
      idx[d]!++;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Bytes as a latin-1 string (py2 `str` payloads). */
export function latin1String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** A str whose code points are bytes (latin-1) as bytes; undefined when a code point is above 255. */
export function stringToLatin1(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return undefined;
    out[i] = c;
  }
  return out;
}
