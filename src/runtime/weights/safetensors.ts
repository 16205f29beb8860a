// safetensors reader and writer: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw bytes.
// Phases 6-7 (loading checkpoints); the writer serves tests and exports.
import { DTYPE_SIZE, contiguousStrides, sizeOfShape, weightsError, type StoredDtype, type StoredTensor } from './tensor.js';

const MAX_HEADER = 100 * 1024 * 1024;

const HINT = 'the file is truncated or not a safetensors file: re-download it (delete it from the cache) or re-save with safetensors';

/** Parses a whole safetensors file held in memory. Tensor bytes are views into `buf` (no copy). */
export function readSafetensors(buf: Uint8Array, file = 'model.safetensors'): Map<string, StoredTensor> {
  if (buf.length < 8) throw weightsError('MSA6805', file, `file has ${buf.length} bytes, too short for a safetensors header`, HINT);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) {
    throw weightsError('MSA6805', file, `header length ${n} at byte offset 0 exceeds the file size ${buf.length}`, HINT, { offset: 0 });
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw weightsError('MSA6805', file, `header (bytes 8..${8 + n}) is not valid UTF-8 JSON: ${(e as Error).message}`, HINT, { offset: 8 });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw weightsError('MSA6805', file, 'header is not a JSON object', HINT);
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const out = new Map<string, StoredTensor>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `tensor '${name}'`;
    if (typeof info !== 'object' || info === null) throw weightsError('MSA6805', file, `${where}: header entry is not an object`, HINT, { tensor: name });
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
      throw weightsError('MSA6809', file, `${where}: dtype ${JSON.stringify(dtype)} is not supported (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`, undefined, { tensor: name });
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw weightsError('MSA6805', file, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`, HINT, { tensor: name });
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw weightsError('MSA6805', file, `${where}: data_offsets ${JSON.stringify(offs)} is not [begin, end]`, HINT, { tensor: name });
    }
    const [b, e] = offs as [number, number];
    const need = sizeOfShape(shape as number[]) * DTYPE_SIZE[dtype as StoredDtype];
    if (e - b !== need) {
      throw weightsError('MSA6805', file, `${where}: data_offsets [${b}, ${e}] hold ${e - b} bytes, shape [${shape.join(', ')}] x ${dtype} needs ${need}`, HINT, { tensor: name });
    }
    if (e > dataLen) {
      throw weightsError('MSA6805', file, `${where}: data ends at byte ${dataStart + e}, past the end of the file (${buf.length} bytes)`, HINT, { tensor: name, offset: dataStart + b });
    }
    out.set(name, {
      name,
      dtype: dtype as StoredDtype,
      shape: [...(shape as number[])],
      strides: contiguousStrides(shape as number[]),
      bytes: buf.subarray(dataStart + b, dataStart + e),
      file,
    });
  }
  return out;
}

export interface TensorToWrite {
  dtype?: 'F32' | 'F16' | 'I64';
  shape: readonly number[];
  values: ArrayLike<number>;
}

/** Writes float32 (or int64 / float16) tensors as a safetensors file, in the given order, 8-byte aligned header. */
export function writeSafetensors(tensors: ReadonlyMap<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  const parts: { dtype: 'F32' | 'F16' | 'I64'; values: ArrayLike<number>; off: number }[] = [];
  for (const [name, t] of tensors) {
    const dtype = t.dtype ?? 'F32';
    const n = sizeOfShape(t.shape);
    if (t.values.length !== n) throw new Error(`writeSafetensors: '${name}' has ${t.values.length} values for shape [${t.shape.join(', ')}]`);
    const len = n * DTYPE_SIZE[dtype];
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + len] };
    parts.push({ dtype, values: t.values, off });
    off += len;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  const base = 8 + hb.length;
  for (const p of parts) {
    for (let i = 0; i < p.values.length; i++) {
      const x = p.values[i]!;
      if (p.dtype === 'F32') dv.setFloat32(base + p.off + i * 4, x, true);
      else if (p.dtype === 'I64') dv.setBigInt64(base + p.off + i * 8, BigInt(Math.round(x)), true);
      else dv.setUint16(base + p.off + i * 2, floatToHalf(x), true);
    }
  }
  return out;
}

/** float -> IEEE half bits (round to nearest even). */
export function floatToHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is the correct rounding
  return sign | h;
}
