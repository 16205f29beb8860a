// Reads one numpy .npy file (format versions 1-3) of numbers into float32, without executing anything: the header is
// parsed as the small literal numpy writes, and object arrays (pickled payloads) are refused. Phase 7: dataset building.
//
// numpy's own reader (`numpy.lib.format.read_array`) evaluates the header with `ast.literal_eval`; we read the three
// keys numpy always writes (descr, fortran_order, shape) and refuse anything else that would change the meaning.

import { readFileSync } from 'node:fs';
import { MmsaError } from '../../../errors.js';
import { dtypeName, makePlan, NumericSink, parseTypestr } from '../pickle/convert.js';

export interface FrameMatrix {
  /** frames x dims, row-major. */
  data: Float32Array;
  frames: number;
  dims: number;
  /** Column names when the source has them (CSV), else undefined. */
  columns?: string[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export const NPY_FORMAT = 'MSA6042';

function bad(file: string, why: string, hint = 'write the array with numpy.save(path, array.astype("float32")) (frames x dims)'): MmsaError {
  return new MmsaError(NPY_FORMAT, `${file}: not a readable .npy array: ${why}`, { hint, details: { file } });
}

/** The header dict numpy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
export function parseNpyHeader(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw bad(file, `the header is not a dict literal (${JSON.stringify(t.slice(0, 60))})`);
  if (/'descr'\s*:\s*\[/.test(t)) throw bad(file, 'structured (record) arrays are not feature matrices');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(t)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(t)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(t)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(file, `the header lacks descr, fortran_order or shape (${JSON.stringify(t.slice(0, 80))})`);
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((p) => (/^\d+L?$/.test(p) ? Number(p.replace(/L$/, '')) : Number.NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) throw bad(file, `the shape (${shapeText}) is not a tuple of integers`);
  return { descr, fortran: fortran === 'True', shape };
}

/**
 * A .npy file's numbers as a frames x dims float32 matrix: 2-D arrays as they are, a 1-D array as one frame (a
 * per-sample vector). Any numeric dtype (float16/32/64, integers, bool) and either byte order or memory order.
 */
export function readNpy(file: string, bytes: Uint8Array = readFileSync(file)): FrameMatrix {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad(file, 'it does not start with the .npy magic string \\x93NUMPY');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(file, 'the file ends inside its header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw bad(file, `format version ${major}.${bytes[7]} is not one numpy writes (1.0, 2.0, 3.0)`);
  }
  if (start + headerLen > bytes.length) throw bad(file, 'the file ends inside its header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const h = parseNpyHeader(header, file);
  const dt = parseTypestr(h.descr);
  const name = dt ? dtypeName(dt) : undefined;
  if (!dt || !name || name === 'str' || name === 'object') {
    throw bad(file, `dtype '${h.descr}' is not numeric${name === 'object' ? ' (object arrays hold pickled Python objects, which are never loaded)' : ''}`);
  }
  if (h.shape.length === 0 || h.shape.length > 2) {
    throw bad(file, `shape (${h.shape.join(', ')}) is not frames x dims`, 'save one 2-D array per sample (frames x feature dims), or a 1-D vector for one frame');
  }
  const shape = h.shape.length === 1 ? [1, h.shape[0]!] : h.shape;
  const n = shape[0]! * shape[1]!;
  const body = bytes.subarray(start + headerLen);
  const want = n * dt.itemsize;
  if (body.length < want) throw bad(file, `the data is truncated: shape (${h.shape.join(', ')}) of ${h.descr} needs ${want} bytes, the file holds ${body.length}`);
  if (body.length > want) throw bad(file, `${body.length - want} bytes follow the array data (several arrays in one file, or a damaged file)`);
  const plan = makePlan(dt, name, shape, n, h.fortran, { floatAs: 'float32', intAs: 'number' });
  const sink = new NumericSink(new Uint8Array(1 << 16), plan);
  if (!sink.feed(body) || !sink.complete()) throw bad(file, 'the data does not fill the declared shape');
  const out = plan.out instanceof Float32Array ? plan.out : Float32Array.from(plan.out as ArrayLike<number>);
  return { data: out, frames: shape[0]!, dims: shape[1]! };
}
