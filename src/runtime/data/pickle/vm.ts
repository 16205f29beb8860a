// The pickle virtual machine: a generator that interprets CPython protocol 2-5 opcodes over a sliding window and
// yields read requests, so one VM serves both the streaming file reader and the in-memory parser. Phase 7 (execute).

import { MmsaError } from '../../../errors.js';
import { pickleError, type PickleErrorKind } from './errors.js';
import {
  type ArrayPlan,
  type ConvertOptions,
  decodeUnicodeArray,
  dtypeName,
  fortranToC,
  halfToNumber,
  makePlan,
  MAX_TYPED_LENGTH,
  NumericSink,
  parseTypestr,
  swapInPlace,
} from './convert.js';
import { DType, isPyTuple, LazyPayload, markTuple, NDArray, PyGlobal, Skipped, type NDDtypeName, type PyValue } from './values.js';

/** A request from the VM to its driver: fill `dest` with the input bytes starting at absolute offset `pos`. */
export interface ReadRequest {
  pos: number;
  dest: Uint8Array;
}

export type KeyPath = readonly (string | number)[];

export interface VmOptions extends ConvertOptions {
  fileName: string;
  /** Total input size in bytes. */
  size: number;
  /** The window: the whole input (in-memory mode) or a reusable chunk buffer (streaming mode). */
  window: Uint8Array;
  streaming: boolean;
  skip: ((path: KeyPath) => boolean) | undefined;
  onProgress: ((bytesRead: number, totalBytes: number) => void) | undefined;
  /** Resolves persistent ids (PERSID/BINPERSID); refused when absent. */
  persistentLoad?: ((pid: unknown) => unknown) | undefined;
  /** Globals beyond the built-in allow-list, only those the caller names (e.g. torch's tensor rebuild functions). */
  extraGlobals?: Readonly<Record<string, PickleGlobalHandler>> | undefined;
}

/**
 * A caller-supplied global: a function handles REDUCE/NEWOBJ calls; the object form may also restore BUILD state on
 * values its `call` returned. A handler without `call` can be referenced (e.g. as an argument) but not called.
 */
export type PickleGlobalHandler =
  | ((args: unknown[]) => unknown)
  | { call?: (args: unknown[]) => unknown; build?: (obj: unknown, state: unknown) => unknown };

/** Payloads at least this long are left in the file until their consumer knows where they go. */
const LAZY_MIN = 4096;
/** Staging buffer for converted payloads (multiple of 8 so every numeric element view is aligned). */
const STAGE_BYTES = 4 * 1024 * 1024;
/** Largest single read request (fs.read accepts < 2 GiB). */
const MAX_IO = 256 * 1024 * 1024;
/** Longest GLOBAL module/name line accepted. */
const MAX_LINE = 4096;
/** Largest LONG4 integer accepted, in bytes. */
const MAX_LONG_BYTES = 64 * 1024;

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** The allow-list: module.name -> internal callable id. Nothing else can be referenced. */
const ALLOWED_GLOBALS: Record<string, string> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  'numpy.core.multiarray.scalar': 'scalar',
  'numpy._core.multiarray.scalar': 'scalar',
  'numpy.core.numeric._frombuffer': 'frombuffer',
  'numpy._core.numeric._frombuffer': 'frombuffer',
  '_codecs.encode': 'encode',
};
for (const mod of ['builtins', '__builtin__']) {
  for (const name of ['set', 'frozenset', 'list', 'dict', 'tuple', 'bytearray', 'bytes']) ALLOWED_GLOBALS[`${mod}.${name}`] = name;
}

/** Module names that are allowed, for a clearer message on a wrong name inside an allowed module. */
export const ALLOWED_GLOBAL_NAMES: readonly string[] = Object.keys(ALLOWED_GLOBALS);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function typeName(v: unknown): string {
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

export class PickleVM {
  private win: Uint8Array;
  private dv: DataView;
  private winStart = 0;
  private winLen: number;
  private p = 0;
  private readonly size: number;
  private readonly streaming: boolean;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private opPos = 0;
  private opByte = -1;
  /** Stack index of the value an error should name; -1 = the next value to be pushed. */
  private focus = -1;
  private stage: Uint8Array | undefined;
  private scratch: Uint8Array | undefined;
  private readonly lazies: LazyPayload[] = [];
  private lazyReused = false;
  private readonly needBuild: NDArray[] = [];
  private progressMax = 0;
  private readonly opts: VmOptions;
  /** Objects returned by extra-global handlers, with the handler that may BUILD them. */
  private readonly extraMade = new WeakMap<object, Exclude<PickleGlobalHandler, (args: unknown[]) => unknown>>();

  constructor(opts: VmOptions) {
    this.opts = opts;
    this.size = opts.size;
    this.streaming = opts.streaming;
    this.win = opts.window;
    this.dv = new DataView(this.win.buffer, this.win.byteOffset, this.win.byteLength);
    this.winLen = this.streaming ? 0 : opts.size;
  }

  // ---------------------------------------------------------------------------------------------- errors, paths

  private fail(kind: PickleErrorKind, message: string, hint?: string, cause?: unknown): never {
    let path: KeyPath | undefined;
    try {
      path = this.pathTo(this.focus >= 0 ? this.focus : this.stack.length);
    } catch {
      path = undefined;
    }
    throw pickleError(
      kind,
      message,
      { file: this.opts.fileName, offset: this.opPos, opcode: OPNAMES[this.opByte] ?? 'unknown', opcodeByte: this.opByte < 0 ? undefined : this.opByte, path },
      hint,
      cause,
    );
  }

  private truncated(need: number, what = 'data'): never {
    const at = this.winStart + this.p;
    this.fail(
      'truncated',
      `unexpected end of ${what}: ${need} byte(s) needed at offset ${at}, but the input has ${this.size} bytes`,
      'the file is truncated or corrupt: re-download it or re-save it with pickle.dump(..., protocol=4)',
    );
  }

  private corrupt(message: string): never {
    this.fail('corrupt', message, 'the pickle is corrupt or was not written by CPython pickle; re-save it with protocol 4');
  }

  /**
   * Best-effort key path of the value at stack index t (t = stack length: the next value to be pushed), recovered
   * from the stack layout CPython writes: a dict followed by key, value, key, value ... (open when a MARK follows it
   * or it is still empty), a list followed by its pending items.
   */
  pathTo(t: number): (string | number)[] {
    const st = this.stack;
    const marks = new Set(this.marks);
    const path: (string | number)[] = [];
    let i = 0;
    outer: while (i < t) {
      // a value that starts with a MARK (a tuple being built): the path ends here
      if (marks.has(i)) return path;
      const v = st[i];
      if (!this.isOpenContainer(i, marks)) return path;
      const c = i + 1;
      if (v instanceof Map) {
        for (let k = c; ; k += 2) {
          if (k >= t) return path;
          const key = st[k];
          if (k + 1 >= t) {
            path.push(keyOf(key));
            return path;
          }
          if (this.isMultiSlot(k + 1, marks)) {
            path.push(keyOf(key));
            i = k + 1;
            continue outer;
          }
        }
      } else if (Array.isArray(v)) {
        for (let k = c; ; k++) {
          if (k >= t) {
            path.push(v.length + (k - c));
            return path;
          }
          if (this.isMultiSlot(k, marks)) {
            path.push(v.length + (k - c));
            i = k;
            continue outer;
          }
        }
      }
      return path;
    }
    return path;
  }

  private isOpenContainer(i: number, marks: Set<number>): boolean {
    const v = this.stack[i];
    if (v instanceof Map || v instanceof Set) return marks.has(i + 1) || v.size === 0;
    if (Array.isArray(v) && !isPyTuple(v)) return marks.has(i + 1) || v.length === 0;
    return false;
  }

  private isMultiSlot(idx: number, marks: Set<number>): boolean {
    if (marks.has(idx)) return true;
    const v = this.stack[idx];
    if (v instanceof PyGlobal) return true;
    if (v instanceof NDArray && v.pending) return true;
    if (idx + 1 < this.stack.length && this.isOpenContainer(idx, marks)) return true;
    return false;
  }

  private isSkipped(path: KeyPath): boolean {
    const skip = this.opts.skip;
    if (skip === undefined) return false;
    for (let k = 1; k <= path.length; k++) if (skip(path.slice(0, k))) return true;
    return false;
  }

  // ---------------------------------------------------------------------------------------------- input window

  private progress(pos: number): void {
    if (pos > this.progressMax) {
      this.progressMax = pos;
      this.opts.onProgress?.(pos, this.size);
    }
  }

  /** Makes at least n bytes available at the cursor (streaming mode reads more; in-memory mode fails). */
  private *fill(n: number, what?: string): Generator<ReadRequest, void, number> {
    if (!this.streaming) this.truncated(n, what);
    if (n > this.win.length) {
      const bigger = new Uint8Array(Math.max(n, this.win.length * 2));
      bigger.set(this.win.subarray(this.p, this.winLen));
      this.winStart += this.p;
      this.winLen -= this.p;
      this.p = 0;
      this.win = bigger;
      this.dv = new DataView(bigger.buffer);
    } else if (this.p > 0) {
      this.win.copyWithin(0, this.p, this.winLen);
      this.winStart += this.p;
      this.winLen -= this.p;
      this.p = 0;
    }
    while (this.winLen < n) {
      const pos = this.winStart + this.winLen;
      const want = Math.min(this.win.length - this.winLen, this.size - pos);
      if (want <= 0) this.truncated(n, what);
      const got = yield { pos, dest: this.win.subarray(this.winLen, this.winLen + want) };
      if (!(got > 0)) this.truncated(n, what);
      this.winLen += got;
      this.progress(pos + got);
    }
  }

  private get pos(): number {
    return this.winStart + this.p;
  }

  /** Checks that a claimed payload length fits in the rest of the input (before anything is allocated). */
  private checkLength(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0) this.corrupt(`invalid ${what} length ${n}`);
    const rest = this.size - this.pos;
    if (n > rest) {
      this.fail(
        'truncated',
        `${what} claims ${n} bytes but only ${rest} remain in the input`,
        'the file is truncated or corrupt: re-download it or re-save it with pickle.dump(..., protocol=4)',
      );
    }
  }

  /** n bytes at the cursor as a view (valid until the next read) and advances past them. */
  private *take(n: number, what: string): Generator<ReadRequest, Uint8Array, number> {
    this.checkLength(n, what);
    if (this.winLen - this.p < n) {
      if (n <= Math.max(this.win.length, 1 << 20) || !this.streaming) {
        yield* this.fill(n, what);
      } else {
        const out = this.allocBytes(n);
        yield* this.readRange(this.pos, out);
        this.skipBytes(n);
        return out;
      }
    }
    const v = this.win.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }

  private skipBytes(n: number): void {
    if (this.winLen - this.p >= n) {
      this.p += n;
    } else {
      this.winStart = this.winStart + this.p + n;
      this.winLen = 0;
      this.p = 0;
    }
  }

  private lazy(n: number, kind: LazyPayload['kind'], what: string): LazyPayload {
    this.checkLength(n, what);
    const l = new LazyPayload(this.pos, n, kind);
    this.skipBytes(n);
    this.lazies.push(l);
    return l;
  }

  /** Fills dest with the input bytes at absolute offset pos (from the window when it still holds them). */
  private *readRange(pos: number, dest: Uint8Array): Generator<ReadRequest, void, number> {
    let off = 0;
    const len = dest.length;
    if (pos + len > this.size) this.truncated(pos + len - this.size);
    const ws = this.winStart;
    const we = ws + this.winLen;
    if (pos >= ws && pos < we) {
      const m = Math.min(len, we - pos);
      dest.set(this.win.subarray(pos - ws, pos - ws + m));
      off = m;
    }
    if (off < len && !this.streaming) this.truncated(len - off);
    while (off < len) {
      const m = Math.min(MAX_IO, len - off);
      const got = yield { pos: pos + off, dest: dest.subarray(off, off + m) };
      if (!(got > 0)) this.truncated(len - off);
      off += got;
      this.progress(pos + off);
    }
  }

  private ensureStage(): Uint8Array {
    if (this.stage === undefined) this.stage = new Uint8Array(new ArrayBuffer(STAGE_BYTES));
    return this.stage;
  }

  // ---------------------------------------------------------------------------------------------- stack helpers

  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.marks[this.marks.length - 1]! >= this.stack.length)) {
      this.corrupt('stack underflow: the opcode needs a value but the stack (above the last MARK) is empty');
    }
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.marks[this.marks.length - 1]! >= this.stack.length)) {
      this.corrupt('stack underflow: the opcode needs a value but the stack (above the last MARK) is empty');
    }
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.corrupt('MARK missing: the opcode collects items up to a MARK but none is open');
    return this.stack.splice(m);
  }

  private readUint(n: 1 | 2 | 4): number {
    const p = this.p;
    this.p += n;
    if (n === 1) return this.win[p]!;
    if (n === 2) return this.dv.getUint16(p, true);
    return this.dv.getUint32(p, true);
  }

  private readLen8(): number {
    const lo = this.dv.getUint32(this.p, true);
    const hi = this.dv.getUint32(this.p + 4, true);
    this.p += 8;
    return hi * 4294967296 + lo;
  }

  private decodeText(bytes: Uint8Array): string {
    const n = bytes.length;
    if (n < 32) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (bytes[i]! >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode(...bytes);
    }
    try {
      return utf8.decode(bytes);
    } catch (e) {
      return this.fail('text', 'invalid UTF-8 in a str payload', 'the file is corrupt (or holds lone surrogates, which this reader refuses)', e);
    }
  }

  // ---------------------------------------------------------------------------------------------- main loop

  *run(): Generator<ReadRequest, PyValue, number> {
    const st = this.stack;
    for (;;) {
      if (this.winLen - this.p < 1) yield* this.fill(1, 'pickle data (no STOP opcode)');
      this.opPos = this.winStart + this.p;
      const op = this.win[this.p++]!;
      this.opByte = op;
      switch (op) {
        case 0x80: { // PROTO
          if (this.winLen - this.p < 1) yield* this.fill(1);
          const proto = this.readUint(1);
          if (proto > 5) this.fail('protocol', `unsupported pickle protocol ${proto}`, 'this reader handles protocols 2 to 5; re-save the file with protocol 4');
          break;
        }
        case 0x95: { // FRAME
          if (this.winLen - this.p < 8) yield* this.fill(8);
          const n = this.readLen8();
          this.checkLength(n, 'FRAME');
          break;
        }
        case 0x2e: { // STOP
          const result = this.pop();
          this.progress(this.pos);
          return (yield* this.finish(result)) as PyValue;
        }
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x71: // BINPUT
          if (this.winLen - this.p < 1) yield* this.fill(1);
          this.memo.set(this.readUint(1), this.top());
          break;
        case 0x72: // LONG_BINPUT
          if (this.winLen - this.p < 4) yield* this.fill(4);
          this.memo.set(this.readUint(4), this.top());
          break;
        case 0x68: // BINGET
        case 0x6a: { // LONG_BINGET
          const w = op === 0x68 ? 1 : 4;
          if (this.winLen - this.p < w) yield* this.fill(w);
          const idx = this.readUint(w);
          let v = this.memo.get(idx);
          if (v === undefined && !this.memo.has(idx)) {
            this.fail('memo', `memo entry ${idx} was never stored`, 'the pickle is corrupt (a reference points to an object that was not written)');
          }
          if (v instanceof NDArray && v.replacement !== undefined) v = v.replacement;
          if (v instanceof LazyPayload) this.lazyReused = true;
          st.push(v);
          break;
        }
        case 0x28: // MARK
          this.marks.push(st.length);
          break;
        case 0x7d: // EMPTY_DICT
          st.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          st.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          st.push(markTuple([]));
          break;
        case 0x8f: // EMPTY_SET
          st.push(new Set());
          break;
        case 0x85: { // TUPLE1
          const a = this.pop();
          st.push(markTuple([a]));
          break;
        }
        case 0x86: { // TUPLE2
          const b = this.pop();
          const a = this.pop();
          st.push(markTuple([a, b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          st.push(markTuple([a, b, c]));
          break;
        }
        case 0x74: // TUPLE
          st.push(markTuple(this.popMark()));
          break;
        case 0x91: // FROZENSET
          st.push(new Set(this.popMark()));
          break;
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          if (items.length % 2 !== 0) this.corrupt(`SETITEMS with an odd number of items (${items.length})`);
          this.setItems(this.top(), items);
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop();
          const list = this.top();
          if (!Array.isArray(list) || isPyTuple(list)) this.corrupt(`APPEND on a ${typeName(list)}, expected a list`);
          list.push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          const list = this.top();
          if (!Array.isArray(list) || isPyTuple(list)) this.corrupt(`APPENDS on a ${typeName(list)}, expected a list`);
          for (const it of items) list.push(it);
          break;
        }
        case 0x90: { // ADDITEMS
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) this.corrupt(`ADDITEMS on a ${typeName(set)}, expected a set`);
          for (const it of items) set.add(it);
          break;
        }
        case 0x4a: // BININT
          if (this.winLen - this.p < 4) yield* this.fill(4);
          st.push(this.dv.getInt32(this.p, true));
          this.p += 4;
          break;
        case 0x4b: // BININT1
          if (this.winLen - this.p < 1) yield* this.fill(1);
          st.push(this.readUint(1));
          break;
        case 0x4d: // BININT2
          if (this.winLen - this.p < 2) yield* this.fill(2);
          st.push(this.readUint(2));
          break;
        case 0x8a: // LONG1
        case 0x8b: { // LONG4
          let n: number;
          if (op === 0x8a) {
            if (this.winLen - this.p < 1) yield* this.fill(1);
            n = this.readUint(1);
          } else {
            if (this.winLen - this.p < 4) yield* this.fill(4);
            n = this.dv.getInt32(this.p, true);
            this.p += 4;
            if (n < 0) this.corrupt(`LONG4 with negative length ${n}`);
            if (n > MAX_LONG_BYTES) this.fail('bigInt', `integer of ${n} bytes is larger than this reader accepts (${MAX_LONG_BYTES})`);
          }
          const bytes = yield* this.take(n, 'LONG');
          st.push(decodeLong(bytes));
          break;
        }
        case 0x47: // BINFLOAT
          if (this.winLen - this.p < 8) yield* this.fill(8);
          st.push(this.dv.getFloat64(this.p, false));
          this.p += 8;
          break;
        case 0x88: // NEWTRUE
          st.push(true);
          break;
        case 0x89: // NEWFALSE
          st.push(false);
          break;
        case 0x4e: // NONE
          st.push(null);
          break;
        case 0x8c: // SHORT_BINUNICODE
        case 0x58: // BINUNICODE
        case 0x8d: { // BINUNICODE8
          const w = op === 0x8c ? 1 : op === 0x58 ? 4 : 8;
          if (this.winLen - this.p < w) yield* this.fill(w);
          const n = w === 8 ? this.readLen8() : this.readUint(w as 1 | 4);
          // A long str right after _codecs.encode is array data (protocol 2): keep it in the file for now.
          if (n >= LAZY_MIN && st.length > 0 && isEncode(st[st.length - 1])) {
            st.push(this.lazy(n, 'utf8', 'str'));
          } else {
            const bytes = yield* this.take(n, 'str');
            st.push(this.decodeText(bytes));
          }
          break;
        }
        case 0x55: // SHORT_BINSTRING
        case 0x54: { // BINSTRING
          const w = op === 0x55 ? 1 : 4;
          if (this.winLen - this.p < w) yield* this.fill(w);
          const n = w === 1 ? this.readUint(1) : this.dv.getInt32(this.p, true);
          if (w === 4) this.p += 4;
          if (n < 0) this.corrupt(`BINSTRING with negative length ${n}`);
          if (n >= LAZY_MIN) {
            st.push(this.lazy(n, 'str8', 'py2 str'));
          } else {
            const bytes = yield* this.take(n, 'py2 str');
            st.push(latin1String(bytes));
          }
          break;
        }
        case 0x43: // SHORT_BINBYTES
        case 0x42: // BINBYTES
        case 0x8e: // BINBYTES8
        case 0x96: { // BYTEARRAY8
          const w = op === 0x43 ? 1 : op === 0x42 ? 4 : 8;
          if (this.winLen - this.p < w) yield* this.fill(w);
          const n = w === 8 ? this.readLen8() : this.readUint(w as 1 | 4);
          if (n >= LAZY_MIN) {
            st.push(this.lazy(n, 'bytes', 'bytes'));
          } else {
            const bytes = yield* this.take(n, 'bytes');
            st.push(bytes.slice());
          }
          break;
        }
        case 0x97: // NEXT_BUFFER
          this.fail(
            'outOfBand',
            'out-of-band buffer (NEXT_BUFFER) found: the data of this array is not inside the file',
            'the file was written with pickle protocol 5 and buffer_callback; re-save it without buffer_callback (in-band)',
          );
          break;
        case 0x98: // READONLY_BUFFER
          this.top();
          break;
        case 0x63: { // GLOBAL
          const mod = yield* this.readLine();
          const name = yield* this.readLine();
          st.push(this.resolveGlobal(mod, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const mod = this.pop();
          if (typeof mod !== 'string' || typeof name !== 'string') {
            this.corrupt(`STACK_GLOBAL needs two str, got ${typeName(mod)} and ${typeName(name)}`);
          }
          st.push(this.resolveGlobal(mod, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          st.push(yield* this.call(fn, args, 'REDUCE'));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          st.push(yield* this.call(cls, args, 'NEWOBJ'));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof Map) || kwargs.size > 0) this.fail('badArgs', 'NEWOBJ_EX with keyword arguments is not supported');
          st.push(yield* this.call(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case 0x62: { // BUILD
          const state = this.pop();
          const obj = this.pop();
          this.focus = st.length;
          if (obj instanceof NDArray) {
            st.push(yield* this.buildArray(obj, state));
          } else if (obj instanceof DType) {
            this.buildDtype(obj, state);
            st.push(obj);
          } else if (typeof obj === 'object' && obj !== null && this.extraMade.get(obj)?.build !== undefined) {
            const h = this.extraMade.get(obj)!;
            st.push(this.runHandler('BUILD', () => h.build!(obj, state)));
          } else {
            this.fail('corrupt', `BUILD on a ${typeName(obj)}: only numpy arrays and dtypes can be restored`);
          }
          this.focus = -1;
          break;
        }
        case 0x30: // POP
          if (st.length > 0 && !(this.marks.length > 0 && this.marks[this.marks.length - 1]! >= st.length)) st.pop();
          else this.popMark();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          {
            const v = this.top();
            if (v instanceof LazyPayload) this.lazyReused = true;
            st.push(v);
          }
          break;
        case 0x51: // BINPERSID
        case 0x50: { // PERSID
          const load = this.opts.persistentLoad;
          if (load === undefined) {
            this.fail('opcode', `persistent ids (${OPNAMES[op]}) are not supported`, 'the file references external objects (e.g. torch storages); save plain numpy arrays instead');
          }
          const pid = op === 0x51 ? this.pop() : yield* this.readLine();
          st.push(this.runHandler('persistent id', () => load(pid)));
          break;
        }
        default: {
          const name = OPNAMES[op];
          if (name === 'PERSID' || name === 'BINPERSID') {
            this.fail('opcode', `persistent ids (${name}) are not supported`, 'the file references external objects (e.g. torch storages); save plain numpy arrays instead');
          }
          if (name === 'INST' || name === 'OBJ' || name === 'EXT1' || name === 'EXT2' || name === 'EXT4') {
            this.fail('opcode', `opcode ${name} (class instantiation / extension registry) is not supported`, 're-save the file with plain dicts of numpy arrays, pickle protocol 4');
          }
          if (name !== undefined) {
            this.fail('opcode', `opcode ${name} belongs to pickle protocol 0/1, which this reader does not support`, 're-save the file with pickle protocol 2 or higher (protocol 4 recommended)');
          }
          this.fail('opcode', `unknown opcode 0x${op.toString(16).padStart(2, '0')}`, 'the file is corrupt or not a pickle');
        }
      }
    }
  }

  private *readLine(): Generator<ReadRequest, string, number> {
    for (;;) {
      const nl = this.win.subarray(this.p, this.winLen).indexOf(0x0a);
      if (nl >= 0) {
        const s = this.decodeText(this.win.subarray(this.p, this.p + nl));
        this.p += nl + 1;
        return s;
      }
      const have = this.winLen - this.p;
      if (have >= MAX_LINE) this.corrupt(`GLOBAL name longer than ${MAX_LINE} bytes (no newline)`);
      yield* this.fill(have + 1, 'GLOBAL name');
    }
  }

  private resolveGlobal(mod: string, name: string): PyGlobal {
    const q = `${mod}.${name}`;
    const fn = ALLOWED_GLOBALS[q] ?? (this.opts.extraGlobals !== undefined && Object.hasOwn(this.opts.extraGlobals, q) ? 'extra' : undefined);
    if (fn === undefined) {
      const shown = q.length > 200 ? `${q.slice(0, 200)}...` : q;
      this.fail(
        'forbiddenGlobal',
        `forbidden global ${shown}: this reader only accepts numpy array/dtype/scalar reconstruction, _codecs.encode and a few builtins (reading never executes code)`,
        'do not load pickles from untrusted sources; if the file is yours, re-save it as a plain dict of numpy arrays, lists and str (pickle protocol 4)',
      );
    }
    return new PyGlobal(mod, name, fn);
  }

  private setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) this.corrupt(`SETITEM(S) on a ${typeName(target)}, expected a dict`);
    let base: (string | number)[] | undefined;
    const hasSkip = this.opts.skip !== undefined;
    if (hasSkip) base = this.pathTo(this.stack.length - 1);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      let v = items[i + 1];
      if (base !== undefined && !(v instanceof Skipped)) {
        const path = [...base, keyOf(k)];
        if (this.isSkipped(path)) v = skippedMarker(v, path);
      }
      target.set(k, v);
    }
  }

  // ---------------------------------------------------------------------------------------------- callables

  private *call(fn: unknown, args: unknown, opname: string): Generator<ReadRequest, unknown, number> {
    if (!(fn instanceof PyGlobal)) this.corrupt(`${opname} on a ${typeName(fn)}: not a callable`);
    if (!isPyTuple(args)) this.corrupt(`${opname} arguments must be a tuple, got ${typeName(args)}`);
    const a = args as unknown[];
    const q = fn.qualified;
    const bad: (msg: string) => never = (msg) =>
      this.fail('badArgs', `${q}(...): ${msg}`, 'the pickle is corrupt or was written by an unsupported numpy version');
    switch (fn.fn) {
      case 'reconstruct': {
        const cls = a[0];
        if (!(cls instanceof PyGlobal) || cls.fn !== 'ndarray') bad(`expected numpy.ndarray as the class, got ${typeName(cls)}`);
        return new NDArray('int8', '|i1', [0], new Int8Array(0), true);
      }
      case 'ndarray': {
        if (a.length < 1 || a.length > 6) bad(`takes 1 to 6 arguments, got ${a.length}`);
        const shape = this.shapeOf(a[0], bad);
        const dt = a.length >= 2 && a[1] !== null ? this.asDtype(a[1], bad) : parseTypestr('f8')!;
        const buffer = a[2];
        if (buffer !== undefined && buffer !== null) {
          if ((a[3] ?? 0) !== 0 || (a[4] ?? null) !== null) bad('offset/strides are not supported');
          const order = a[5] ?? 'C';
          const arr = new NDArray('int8', '|i1', [0], new Int8Array(0), true);
          return yield* this.fillArray(arr, dt, shape, order === 'F', buffer, this.stack.length);
        }
        const arr = new NDArray(dtypeName(dt) ?? 'object', dt.descr, shape, new Int8Array(0), true);
        this.needBuild.push(arr);
        return arr;
      }
      case 'dtype': {
        const ts = a[0];
        if (typeof ts !== 'string') bad(`expected a type string, got ${typeName(ts)}`);
        const dt = parseTypestr(ts);
        if (dt === undefined) this.fail('dtype', `unsupported numpy dtype '${ts}'`, 'convert the array to a numeric dtype (float32/int64/...) or str before saving');
        return dt;
      }
      case 'scalar': {
        const dt = this.asDtype(a[0], bad);
        return yield* this.scalar(dt, a[1], bad);
      }
      case 'frombuffer': {
        if (a.length !== 4) bad(`expected 4 arguments (buffer, dtype, shape, order), got ${a.length}`);
        const dt = this.asDtype(a[1], bad);
        const shape = this.shapeOf(a[2], bad);
        const order = a[3];
        if (order !== 'C' && order !== 'F' && order !== 'A' && order !== 'K') bad(`order must be 'C' or 'F', got ${String(order)}`);
        const arr = new NDArray('int8', '|i1', [0], new Int8Array(0), true);
        return yield* this.fillArray(arr, dt, shape, order === 'F', a[0], this.stack.length);
      }
      case 'encode': {
        const [obj, enc] = a;
        const e = enc === undefined ? 'utf-8' : enc;
        if (typeof e !== 'string' || !['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(e.toLowerCase())) {
          bad(`only the 'latin1' encoding is supported, got ${String(e)}`);
        }
        if (obj instanceof LazyPayload && obj.kind === 'utf8') {
          obj.consumed = true;
          const l = new LazyPayload(obj.pos, obj.length, 'utf8latin1');
          this.lazies.push(l);
          return l;
        }
        if (typeof obj !== 'string') bad(`expected a str, got ${typeName(obj)}`);
        const b = stringToLatin1(obj);
        if (b === undefined) this.fail('text', 'latin-1 payload holds a code point above 255', 'the file is corrupt');
        return b;
      }
      case 'set':
      case 'frozenset':
      case 'list':
      case 'tuple': {
        const items = a.length === 0 ? [] : this.iterableOf(a[0], bad);
        if (fn.fn === 'set' || fn.fn === 'frozenset') return new Set(items);
        return fn.fn === 'tuple' ? markTuple([...items]) : [...items];
      }
      case 'dict': {
        if (a.length === 0) return new Map();
        const src = a[0];
        if (src instanceof Map) return new Map(src);
        const m = new Map<unknown, unknown>();
        for (const pair of this.iterableOf(src, bad)) {
          if (!Array.isArray(pair) || pair.length !== 2) bad('dict() items must be pairs');
          m.set(pair[0], pair[1]);
        }
        return m;
      }
      case 'bytearray':
      case 'bytes': {
        if (a.length === 0) return new Uint8Array(0);
        const src = a[0];
        if (src instanceof Uint8Array) return src.slice();
        if (src instanceof LazyPayload && src.kind === 'bytes') return src;
        if (Array.isArray(src) && src.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 256)) {
          return Uint8Array.from(src as number[]);
        }
        return bad(`unsupported argument ${typeName(src)}`);
      }
      case 'extra': {
        const h = this.opts.extraGlobals![q]!;
        const callFn = typeof h === 'function' ? h : h.call;
        if (callFn === undefined) return bad('not callable');
        // Handlers see real values, never the VM's lazy file ranges.
        for (let i = 0; i < a.length; i++) {
          const x = a[i];
          if (x instanceof LazyPayload) {
            x.consumed = true;
            a[i] = yield* this.materialise(x);
          }
        }
        const out = this.runHandler(`${q}(...)`, () => callFn(a));
        if (typeof h !== 'function' && typeof out === 'object' && out !== null) this.extraMade.set(out, h);
        return out;
      }
      default:
        return bad('not callable');
    }
  }

  /** Runs caller code; its plain errors become MSA errors with this opcode's offset and key path. */
  private runHandler<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof MmsaError) throw e;
      return this.fail('badArgs', `${what}: ${e instanceof Error ? e.message : String(e)}`, undefined, e);
    }
  }

  private iterableOf(v: unknown, bad: (m: string) => never): unknown[] {
    if (Array.isArray(v)) return v;
    if (v instanceof Set) return [...v];
    if (v instanceof Map) return [...v.keys()];
    return bad(`expected an iterable, got ${typeName(v)}`);
  }

  private asDtype(v: unknown, bad: (m: string) => never): DType {
    if (v instanceof DType) return v;
    if (typeof v === 'string') {
      const dt = parseTypestr(v);
      if (dt !== undefined) return dt;
    }
    return bad(`expected a numpy dtype, got ${typeName(v)}`);
  }

  private shapeOf(v: unknown, bad: (m: string) => never): number[] {
    const dims = typeof v === 'number' ? [v] : Array.isArray(v) ? v : undefined;
    if (dims === undefined) return bad(`shape must be a tuple of int, got ${typeName(v)}`);
    if (dims.length > 64) bad(`shape has ${dims.length} dimensions`);
    let n = 1;
    const out: number[] = [];
    for (const d of dims) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) bad(`invalid dimension ${String(d)} in shape`);
      n *= d;
      if (!Number.isSafeInteger(n)) this.fail('tooLarge', `shape (${dims.join(', ')}) has more elements than this runtime can address`);
      out.push(d);
    }
    return out;
  }

  private buildDtype(dt: DType, state: unknown): void {
    if (!Array.isArray(state) || state.length < 8) this.corrupt(`numpy.dtype state must be a tuple of 8 or 9 items, got ${typeName(state)}`);
    const [, order, sub, names, fields, elsize] = state as unknown[];
    if (order === '<' || order === '>' || order === '|') dt.byteorder = order;
    else if (order === '=') dt.byteorder = '<';
    else this.corrupt(`numpy.dtype byte order ${String(order)}`);
    if (sub !== null || names !== null || fields !== null) dt.structured = true;
    if ((dt.kind === 'U' || dt.kind === 'S' || dt.kind === 'V') && typeof elsize === 'number' && elsize > 0) dt.itemsize = elsize;
    if (dt.itemsize > 1 && dt.byteorder === '|' && dt.kind !== 'O' && dt.kind !== 'U' && dt.kind !== 'S' && dt.kind !== 'V') {
      dt.byteorder = '<';
    }
  }

  private *buildArray(arr: NDArray, state: unknown): Generator<ReadRequest, unknown, number> {
    if (!arr.pending) this.corrupt('BUILD on a numpy array that already has its data');
    if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
      this.corrupt(`numpy array state must be a tuple (version, shape, dtype, is_fortran, data), got ${typeName(state)}`);
    }
    const s = state.length === 5 ? state.slice(1) : state;
    const bad: (msg: string) => never = (msg) => this.fail('badArgs', `numpy array state: ${msg}`, 'the pickle is corrupt or was written by an unsupported numpy version');
    const shape = this.shapeOf(s[0], bad);
    const dt = this.asDtype(s[1], bad);
    const fortran = s[2] === true || s[2] === 1;
    if (s[2] !== true && s[2] !== false && s[2] !== 0 && s[2] !== 1) bad(`is_fortran must be a bool, got ${typeName(s[2])}`);
    return yield* this.fillArray(arr, dt, shape, fortran, s[3], this.stack.length);
  }

  /**
   * Gives `arr` its dtype, shape and data from `raw` (bytes, a lazy file range, a latin-1 str, or a list for object
   * arrays). `slot` is the stack index the array will occupy, for its key path.
   */
  private *fillArray(arr: NDArray, dt: DType, shape: number[], fortran: boolean, raw: unknown, slot: number): Generator<ReadRequest, unknown, number> {
    let n = 1;
    for (const d of shape) n *= d;
    const name = dtypeName(dt);
    if (name === undefined || dt.structured) {
      this.fail('dtype', `unsupported numpy dtype ${dt.structured ? `structured ${dt.typestr}` : dt.descr} for an array`, 'convert the array to a numeric dtype (float32/int64/...) or str before saving');
    }
    arr.pending = false;
    arr.dtype = name;
    arr.descr = dt.descr;
    arr.shape = shape;
    if (this.opts.skip !== undefined) {
      const path = this.pathTo(slot);
      if (this.isSkipped(path)) {
        if (raw instanceof LazyPayload) raw.consumed = true;
        const marker = new Skipped('ndarray', path, { dtype: name, shape });
        arr.replacement = marker;
        arr.data = new Int8Array(0);
        return marker;
      }
    }
    if (name === 'object') {
      if (!Array.isArray(raw)) this.fail('dtype', `object array data must be a list, got ${typeName(raw)}`);
      if (raw.length !== n) this.fail('payloadLength', `object array has ${raw.length} items, shape (${shape.join(', ')}) needs ${n}`);
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const x = raw[i];
        if (typeof x === 'string') out[i] = x;
        else if (x instanceof LazyPayload && (x.kind === 'str8' || x.kind === 'utf8')) {
          x.consumed = true;
          out[i] = (yield* this.materialise(x)) as string;
        } else this.fail('dtype', `object array item ${i} is a ${typeName(x)}; only arrays of str are supported`, 'convert the object array to a list or a numeric array before saving');
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
      if (bytes === undefined) this.fail('text', 'array data given as str holds a code point above 255');
    } else if (raw instanceof LazyPayload && raw.kind !== 'utf8') {
      lazy = raw;
      raw.consumed = true;
    } else this.fail('badArgs', `array data must be bytes, got ${typeName(raw)}`);
    const have = bytes !== undefined ? bytes.length : lazy!.kind === 'utf8latin1' ? undefined : lazy!.length;
    if (have !== undefined && have !== expected) {
      this.fail(
        'payloadLength',
        `array payload has ${have} bytes, but shape (${shape.join(', ')}) x ${dt.itemsize} bytes (${dt.descr}) needs ${expected}`,
        'the file is corrupt (payload and header disagree)',
      );
    }
    if (lazy !== undefined && lazy.kind === 'utf8latin1' && (lazy.length < expected || lazy.length > 2 * expected)) {
      this.fail('payloadLength', `latin-1 array payload of ${lazy.length} UTF-8 bytes cannot hold the ${expected} bytes that shape (${shape.join(', ')}) x ${dt.descr} needs`);
    }
    if (name === 'str') {
      const rawBytes = bytes ?? ((yield* this.materialiseBytes(lazy!, expected)) as Uint8Array);
      let strs = decodeUnicodeArray(rawBytes, dt.itemsize, dt.byteorder === '>', n);
      if (strs === undefined) this.fail('text', 'numpy unicode array holds an invalid code point');
      if (fortran) strs = fortranToC(strs, shape);
      arr.data = strs;
      return arr;
    }
    let plan: ArrayPlan;
    try {
      plan = makePlan(dt, name, shape, n, fortran, this.opts);
    } catch (e) {
      if (e instanceof RangeError) {
        this.fail('tooLarge', `cannot allocate ${name} array of shape (${shape.join(', ')}): ${e.message}`, 'skip this key (options.keys / options.skip) or split the array into smaller ones', e);
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
        const sink = new NumericSink(this.ensureStage(), plan);
        if (!sink.feed(bytes) || !sink.complete()) this.fail('payloadLength', 'array payload does not match its shape');
      }
      return arr;
    }
    const lz = lazy!;
    if (lz.kind === 'utf8latin1') {
      yield* this.streamUtf8Latin1(lz, new NumericSink(this.ensureStage(), plan));
    } else if (direct) {
      const piece = 1 << 30;
      for (let off = 0; off < expected; off += piece) {
        const m = Math.min(piece, expected - off);
        yield* this.readRange(lz.pos + off, new Uint8Array(plan.out.buffer, plan.out.byteOffset + off, m));
      }
      if (plan.swap) swapInPlace(plan.out.buffer, plan.out.byteOffset, expected, plan.itemsize);
    } else {
      const sink = new NumericSink(this.ensureStage(), plan);
      let pos = lz.pos;
      const end = lz.pos + lz.length;
      while (pos < end) {
        const sp = sink.space();
        const m = Math.min(sp.length, end - pos);
        yield* this.readRange(pos, sp.subarray(0, m));
        pos += m;
        sink.commit(m);
      }
      if (!sink.complete()) this.fail('payloadLength', 'array payload does not match its shape');
    }
    return arr;
  }

  /** Decodes a UTF-8 payload whose code points are bytes (protocol 2 `_codecs.encode(s, 'latin1')`) into a sink. */
  private *streamUtf8Latin1(lz: LazyPayload, sink: NumericSink): Generator<ReadRequest, void, number> {
    if (this.scratch === undefined) this.scratch = new Uint8Array(STAGE_BYTES);
    const scratch = this.scratch;
    let pos = lz.pos;
    const end = lz.pos + lz.length;
    const overflow = (): never => this.fail('payloadLength', 'latin-1 array payload is longer than its shape needs', 'the file is corrupt');
    while (pos < end) {
      const m = Math.min(scratch.length, end - pos);
      const chunk = scratch.subarray(0, m);
      yield* this.readRange(pos, chunk);
      // Native UTF-8 decoding (fatal) then latin-1 encoding; a lead byte cut at the chunk end goes to the next chunk.
      let cut = m;
      if (pos + m < end && chunk[m - 1]! >= 0xc0) cut = m - 1;
      pos += cut;
      // Decode in place (output never longer than input), then feed whole bytes to the sink.
      let w = 0;
      for (let i = 0; i < cut; i++) {
        const b = chunk[i]!;
        if (b < 0x80) {
          chunk[w++] = b;
        } else if ((b === 0xc2 || b === 0xc3) && i + 1 < cut && (chunk[i + 1]! & 0xc0) === 0x80) {
          chunk[w++] = ((b & 0x1f) << 6) | (chunk[++i]! & 0x3f);
        } else {
          this.fail('text', 'latin-1 array payload holds a code point above 255 (or invalid UTF-8)', 'the file is corrupt');
        }
      }
      if (!sink.feed(chunk.subarray(0, w))) overflow();
    }
    if (!sink.complete()) this.fail('payloadLength', 'latin-1 array payload does not match its shape', 'the file is corrupt');
  }

  private *materialiseBytes(l: LazyPayload, expected?: number): Generator<ReadRequest, Uint8Array, number> {
    if (l.kind === 'utf8latin1') {
      if (expected === undefined) {
        // decoded length unknown: decode the text, then map code points to bytes
        const text = (yield* this.materialise(new LazyPayload(l.pos, l.length, 'utf8'))) as string;
        const b = stringToLatin1(text);
        if (b === undefined) this.fail('text', 'latin-1 payload holds a code point above 255', 'the file is corrupt');
        return b;
      }
      const plan = makePlan(new DType('u', 1, '|', 'u1'), 'uint8', [expected], expected, false, this.opts);
      yield* this.streamUtf8Latin1(l, new NumericSink(this.ensureStage(), plan));
      return plan.out as Uint8Array;
    }
    const out = this.allocBytes(l.length);
    yield* this.readRange(l.pos, out);
    return out;
  }

  private allocBytes(n: number): Uint8Array {
    if (n > MAX_TYPED_LENGTH) {
      this.fail('tooLarge', `a bytes/str payload of ${n} bytes exceeds this runtime's limit of ${MAX_TYPED_LENGTH} bytes per buffer`, 'skip this key (options.keys / options.skip)');
    }
    try {
      return new Uint8Array(n);
    } catch (e) {
      return this.fail('tooLarge', `cannot allocate ${n} bytes: ${(e as Error).message}`, 'skip this key (options.keys / options.skip)', e);
    }
  }

  private *materialise(l: LazyPayload): Generator<ReadRequest, PyValue, number> {
    if (l.kind === 'utf8') {
      const b = this.allocBytes(l.length);
      yield* this.readRange(l.pos, b);
      return this.decodeText(b);
    }
    const b = yield* this.materialiseBytes(l);
    return l.kind === 'str8' ? latin1String(b) : b;
  }

  private *scalar(dt: DType, data: unknown, bad: (m: string) => never): Generator<ReadRequest, unknown, number> {
    const name = dtypeName(dt);
    if (name === 'object') return data;
    if (name === undefined || dt.structured) this.fail('dtype', `unsupported numpy scalar dtype ${dt.descr}`);
    let b: Uint8Array | undefined;
    if (data instanceof Uint8Array) b = data;
    else if (typeof data === 'string') b = stringToLatin1(data);
    else if (data instanceof LazyPayload) {
      data.consumed = true;
      b = yield* this.materialiseBytes(data, data.kind === 'utf8latin1' ? dt.itemsize : undefined);
    }
    if (b === undefined) return bad(`scalar data must be bytes, got ${typeName(data)}`);
    if (b.length !== dt.itemsize) {
      this.fail('payloadLength', `numpy scalar of dtype ${dt.descr} needs ${dt.itemsize} bytes, got ${b.length}`, 'the file is corrupt');
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
        return this.opts.intAs === 'native' ? x : Number(x);
      }
      case 'uint64': {
        const x = v.getBigUint64(0, le);
        return this.opts.intAs === 'native' ? x : Number(x);
      }
      case 'bool': return v.getUint8(0) !== 0;
      case 'str': {
        const s = decodeUnicodeArray(b, dt.itemsize, !le, 1);
        if (s === undefined) this.fail('text', 'numpy str scalar holds an invalid code point');
        return s[0]!;
      }
    }
    return bad('unsupported scalar');
  }

  // ---------------------------------------------------------------------------------------------- finish

  private *finish(result: unknown): Generator<ReadRequest, unknown, number> {
    for (const a of this.needBuild) {
      if (a.pending && a.replacement === undefined && a.size > 0) {
        this.fail('uninitialised', `numpy.ndarray(shape=(${a.shape.join(', ')})) was created without data (no BUILD state follows)`, 'the writer stored an uninitialised array; re-save the data with numpy');
      }
    }
    const needWalk = this.lazyReused || this.lazies.some((l) => !l.consumed);
    if (!needWalk) return result;
    if (result instanceof LazyPayload) return yield* this.materialise(result);
    // Replace the lazy payloads that ended up in containers by real values (iterative: no recursion limit).
    const seen = new Set<object>();
    const todo: unknown[] = [result];
    while (todo.length > 0) {
      const c = todo.pop();
      if (typeof c !== 'object' || c === null || seen.has(c)) continue;
      seen.add(c);
      if (Array.isArray(c)) {
        for (let i = 0; i < c.length; i++) {
          const x = c[i];
          if (x instanceof LazyPayload) c[i] = yield* this.materialise(x);
          else todo.push(x);
        }
      } else if (c instanceof Map) {
        let rebuild = false;
        for (const [k, x] of c) {
          if (k instanceof LazyPayload) rebuild = true;
          if (x instanceof LazyPayload) c.set(k, yield* this.materialise(x));
          else todo.push(x);
          todo.push(k);
        }
        if (rebuild) {
          const entries = [...c];
          c.clear();
          for (const [k, x] of entries) c.set(k instanceof LazyPayload ? yield* this.materialise(k) : k, x);
        }
      } else if (c instanceof Set) {
        const items = [...c];
        if (items.some((x) => x instanceof LazyPayload)) {
          c.clear();
          for (const x of items) c.add(x instanceof LazyPayload ? yield* this.materialise(x) : x);
        }
        for (const x of c) todo.push(x);
      }
    }
    return result;
  }
}

function isEncode(v: unknown): boolean {
  return v instanceof PyGlobal && v.fn === 'encode';
}

function keyOf(k: unknown): string | number {
  if (typeof k === 'string' || typeof k === 'number') return k;
  if (typeof k === 'bigint' || typeof k === 'boolean' || k === null) return String(k);
  return `<${typeName(k)}>`;
}

function skippedMarker(v: unknown, path: KeyPath): Skipped {
  if (v instanceof NDArray) return new Skipped('ndarray', path, { dtype: v.dtype, shape: v.shape });
  if (Array.isArray(v)) return new Skipped(isPyTuple(v) ? 'tuple' : 'list', path, { length: v.length });
  if (v instanceof Map) return new Skipped('dict', path, { length: v.size });
  if (v instanceof Set) return new Skipped('set', path, { length: v.size });
  if (v instanceof LazyPayload) v.consumed = true;
  return new Skipped('value', path);
}

/** Little-endian two's complement (LONG1/LONG4) -> number when exact, else bigint. */
export function decodeLong(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i]!;
    if (b[n - 1]! & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v;
}

function latin1String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function stringToLatin1(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return undefined;
    out[i] = c;
  }
  return out;
}

export type { NDDtypeName };
