// A tensor as stored in a checkpoint file (dtype, shape, raw little-endian bytes) and its conversion to float32.
// Phases 6 (lower) and 7 (execute): loading pretrained weights.
import type { ErrorCode } from '../../core/messages.js';
import { MmsaError } from '../../errors.js';

export type StoredDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<StoredDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface StoredTensor {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Element strides (C order unless a torch view says otherwise). */
  strides: number[];
  /** The bytes of the underlying storage, starting at this tensor's first element. */
  bytes: Uint8Array;
  /** Where it came from, for messages. */
  file: string;
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Element reader for one dtype over a DataView of little-endian bytes. */
function reader(dtype: StoredDtype, dv: DataView): (i: number) => number {
  switch (dtype) {
    case 'F32': return (i) => dv.getFloat32(i * 4, true);
    case 'F64': return (i) => dv.getFloat64(i * 8, true);
    case 'F16': return (i) => halfToFloat(dv.getUint16(i * 2, true));
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      return (i) => {
        tmp.setUint32(0, dv.getUint16(i * 2, true) << 16, true);
        return tmp.getFloat32(0, true);
      };
    }
    case 'I64': return (i) => Number(dv.getBigInt64(i * 8, true));
    case 'I32': return (i) => dv.getInt32(i * 4, true);
    case 'I16': return (i) => dv.getInt16(i * 2, true);
    case 'I8': return (i) => dv.getInt8(i);
    case 'U8':
    case 'BOOL': return (i) => dv.getUint8(i);
  }
}

/** The tensor's values in C order as float32 (strided torch views are gathered; other dtypes converted). */
export function toFloat32(t: StoredTensor): Float32Array {
  const n = sizeOfShape(t.shape);
  const contiguous = t.strides.every((s, i) => s === contiguousStrides(t.shape)[i]);
  if (t.dtype === 'F32' && contiguous) {
    if (t.bytes.byteOffset % 4 === 0) return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n).slice();
    return new Float32Array(t.bytes.slice(0, n * 4).buffer);
  }
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const get = reader(t.dtype, dv);
  const out = new Float32Array(n);
  if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = get(i);
    return out;
  }
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    out[i] = get(off);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += t.strides[d]!;
      if (idx[d]! < t.shape[d]!) break;
      off -= t.strides[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Bytes a strided view reaches, from its first element (for bounds checks). */
export function spanBytes(dtype: StoredDtype, shape: readonly number[], strides: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  let last = 0;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
  return (last + 1) * DTYPE_SIZE[dtype];
}

export function weightsError(code: ErrorCode, file: string, message: string, hint?: string, details: Record<string, unknown> = {}): MmsaError {
  return new MmsaError(code, `${file}: ${message}`, { ...(hint ? { hint } : {}), details: { file, ...details } });
}
