// The pickle virtual machine: interprets CPython protocol 2-5 opcodes, dispatched by name from one table as
// CPython's Lib/pickle.py does, over a sliding window; it yields read requests, so one VM serves both the streaming
// file reader and the in-memory parser. Output size and nesting depth are budgeted. Phase 7 (execute).

import { MmsaError, printable } from '../../../errors.js';
import { type ConvertOptions, latin1String, makePlan, MAX_TYPED_LENGTH, NumericSink, stringToLatin1 } from './convert.js';
import { pickleError, type PickleErrorKind } from './errors.js';
import { buildNumpy, callNumpy, checkArraysBuilt, isNumpyFn, NUMPY_GLOBALS, type NumpyHost, type ReadRequest } from './numpy.js';
import { FIXED_BY_BYTE, HIGHEST_PROTOCOL, OPCODES, opcodeName, OPNAME_BY_BYTE, type OpName } from './opcodes.js';
import { DType, isPyTuple, LazyPayload, markTuple, NDArray, PyGlobal, pyTypeName, Skipped, type NDDtypeName, type PyValue } from './values.js';

export type { ReadRequest };

export type KeyPath = readonly (string | number)[];

/**
 * Budgets of one read. A file may unpack to at most `outputFloorBytes + outputPerInputByte * size` bytes of values
 * (arrays at their in-memory size, strings and bytes at their length, 16 bytes per container, memo entry or object,
 * 8 per list slot, 16 per dict entry): honest files stay far below (feature files about 1x, lists of small ints about
 * 4x, lists of empty lists about 20x), while one payload referenced many times through the memo, or containers copied
 * over and over, fail with MSA6017 at the opcode that crossed the budget instead of taking the machine's memory.
 * Containers may nest `maxDepth` levels (MARKs open at once, and the key path of a value being read), the depth
 * CPython's own pickle.dump reaches before its recursion limit; deeper files fail with MSA6018.
 */
export interface PickleLimits {
  outputPerInputByte: number;
  outputFloorBytes: number;
  maxDepth: number;
}

export const PICKLE_LIMITS: Readonly<PickleLimits> = Object.freeze({ outputPerInputByte: 32, outputFloorBytes: 16 * 1024 * 1024, maxDepth: 1000 });

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
  limits?: Partial<PickleLimits> | undefined;
}

/**
 * A caller-supplied global: a function handles REDUCE/NEWOBJ calls; the object form may also restore BUILD state on
 * values its `call` returned. A handler without `call` can be referenced (e.g. as an argument) but not called.
 */
export type PickleGlobalHandler =
  | ((args: unknown[]) => unknown)
  | { call?: (args: unknown[]) => unknown; build?: (obj: unknown, state: unknown) => unknown };

type Reader<T> = Generator<ReadRequest, T, number>;
/** An opcode handler: done when it returns nothing, else the reader of its slow path (more input needed). */
type Handler = (vm: PickleVM) => Reader<void> | undefined;

/** What the bytes of an inline payload become: str (UTF-8), int (LONG1/LONG4), py2 str (latin-1), bytes. */
type PayloadAs = 'text' | 'long' | 'latin1' | 'bytes';

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
/** Budget costs (see PickleLimits). */
const OBJ_COST = 16;
const SLOT_COST = 8;

const BUILTIN_FNS = ['set', 'frozenset', 'list', 'dict', 'tuple', 'bytearray', 'bytes'] as const;
type BuiltinFn = (typeof BUILTIN_FNS)[number];

/** The allow-list: module.name -> internal callable id. Nothing else can be referenced. */
const ALLOWED_GLOBALS: Record<string, string> = { ...NUMPY_GLOBALS, '_codecs.encode': 'encode' };
for (const mod of ['builtins', '__builtin__']) for (const name of BUILTIN_FNS) ALLOWED_GLOBALS[`${mod}.${name}`] = name;

export const ALLOWED_GLOBAL_NAMES: readonly string[] = Object.keys(ALLOWED_GLOBALS);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Python's empty tuple is one shared immutable object; so is ours (it costs nothing however often it appears). */
const EMPTY_TUPLE: unknown[] = markTuple(Object.freeze([]) as unknown as unknown[]);

const CORRUPT_HINT = 'the pickle is corrupt or was not written by CPython pickle; re-save it with protocol 4';
const TRUNCATED_HINT = 'the file is truncated or corrupt: re-download it or re-save it with pickle.dump(..., protocol=4)';
const PROTOCOL0_HINT = 're-save the file with pickle protocol 2 or higher (protocol 4 recommended)';
const CLASS_HINT = 're-save the file with plain dicts of numpy arrays, pickle protocol 4';

/** One step of the cached key-path walk: an open container on the stack and how far its pending items were read. */
interface WalkFrame {
  /** Stack index of the open container. */
  i: number;
  /** Index in the path of the element this container contributes. */
  at: number;
  /** Pending items before this stack index hold no nested open value. */
  scanned: number;
  /** Stack index of the nested open value the walk went on into, or -1. */
  next: number;
}

export class PickleVM implements NumpyHost {
  private win: Uint8Array;
  private dv: DataView;
  private winStart = 0;
  private winLen: number;
  private p = 0;
  private readonly size: number;
  private readonly streaming: boolean;
  private readonly stack: unknown[] = [];
  /** Stack lengths at each open MARK (non-decreasing). */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private opPos = 0;
  private opByte = -1;
  /** Stack index of the value an error should name; -1 = the next value to be pushed. */
  private focus = -1;
  private stageBuf: Uint8Array | undefined;
  private scratch: Uint8Array | undefined;
  private readonly lazies: LazyPayload[] = [];
  private lazyReused = false;
  private readonly needBuild: NDArray[] = [];
  private progressMax = 0;
  readonly opts: VmOptions;
  private readonly limits: PickleLimits;
  /** Output bytes so far and the most the input may produce. */
  private used = 0;
  private readonly maxOut: number;
  private stopped = false;
  private result: PyValue = null;
  /** Objects returned by extra-global handlers, with the handler that may BUILD them. */
  private readonly extraMade = new WeakMap<object, Exclude<PickleGlobalHandler, (args: unknown[]) => unknown>>();
  /** The last key-path walk, and the lowest stack length since: what lies below it is unchanged. */
  private walkFrames: WalkFrame[] = [];
  private walkPath: (string | number)[] = [];
  private low = 0;

  constructor(opts: VmOptions) {
    this.opts = opts;
    this.size = opts.size;
    this.streaming = opts.streaming;
    this.win = opts.window;
    this.dv = new DataView(this.win.buffer, this.win.byteOffset, this.win.byteLength);
    this.winLen = this.streaming ? 0 : opts.size;
    this.limits = { ...PICKLE_LIMITS, ...(opts.limits ?? {}) };
    this.maxOut = this.limits.outputFloorBytes + this.limits.outputPerInputByte * opts.size;
  }

  // ---------------------------------------------------------------------------------------------- errors, budget

  fail(kind: PickleErrorKind, message: string, hint?: string, cause?: unknown): never {
    let path: KeyPath | undefined;
    try {
      path = this.pathTo(this.focus >= 0 ? this.focus : this.stack.length, false);
    } catch {
      path = undefined;
    }
    throw pickleError(
      kind,
      message,
      { file: this.opts.fileName, offset: this.opPos, opcode: opcodeName(this.opByte), opcodeByte: this.opByte < 0 ? undefined : this.opByte, path },
      hint,
      cause,
    );
  }

  private truncated(need: number, what = 'data'): never {
    const at = this.winStart + this.p;
    this.fail('truncated', `unexpected end of ${what}: ${need} byte(s) needed at offset ${at}, but the input has ${this.size} bytes`, TRUNCATED_HINT);
  }

  private corrupt(message: string): never {
    this.fail('corrupt', message, CORRUPT_HINT);
  }

  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.maxOut) this.overBudget();
  }

  private overBudget(): never {
    const l = this.limits;
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    this.fail(
      'budget',
      `the data unpacks to more than ${mib(this.maxOut)}, the budget for a ${this.size}-byte input (${l.outputPerInputByte} bytes per input byte + ${mib(l.outputFloorBytes)})`,
      'the file references the same data many times (a decompression bomb) or is corrupt; a file written by pickle.dump stays far below this. If you trust it, raise the budget (readPickle option limits.outputPerInputByte)',
    );
  }

  // ---------------------------------------------------------------------------------------------- key paths

  private hasMark(i: number): boolean {
    const m = this.marks;
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return lo < m.length && m[lo] === i;
  }

  /**
   * Key path of the value at stack index t (t = stack length: the next value to be pushed), recovered from the stack
   * layout CPython writes: a dict followed by key, value, key, value ... (open when a MARK follows it or it is still
   * empty), a list followed by its pending items. Incremental: the part of the last walk that lies below the lowest
   * stack length since then is reused, so reading with `skip` stays linear. `strict` fails past the depth budget.
   */
  pathTo(t: number, strict = true): (string | number)[] {
    const st = this.stack;
    // Stack slots <= stable kept their objects, sizes and marks since the last walk.
    const stable = this.low - 2;
    const old = this.walkFrames;
    const oldPath = this.walkPath;
    const frames: WalkFrame[] = [];
    const path: (string | number)[] = [];
    let reuse = true;
    let i = 0;
    const done = () => {
      this.walkFrames = frames;
      this.walkPath = path;
      this.low = st.length;
      return path.slice();
    };
    outer: while (i < t) {
      if (path.length >= this.limits.maxDepth) {
        if (strict) this.fail('tooDeep', `containers nest deeper than ${this.limits.maxDepth} levels`, 'the file is corrupt or hostile: feature files nest a few levels');
        return done();
      }
      // a value that starts with a MARK (a tuple being built): the path ends here
      if (this.hasMark(i)) return done();
      const v = st[i];
      if (!this.isOpenContainer(i)) return done();
      const isMap = v instanceof Map;
      if (!isMap && !Array.isArray(v)) return done();
      const c = i + 1;
      const f = frames.length;
      const prev = reuse && old[f]?.i === i && i <= stable ? old[f] : undefined;
      if (prev !== undefined && prev.next >= 0 && prev.next < t && prev.next <= stable) {
        path.push(oldPath[prev.at]!);
        frames.push({ i, at: path.length - 1, scanned: prev.scanned, next: prev.next });
        i = prev.next;
        continue;
      }
      reuse = false;
      let k = c;
      if (prev !== undefined) {
        k = Math.max(c, Math.min(prev.scanned, isMap ? stable : stable + 1));
        if (isMap && (k - c) % 2 !== 0) k -= 1;
      }
      if (isMap) {
        for (; ; k += 2) {
          if (k >= t) {
            frames.push({ i, at: -1, scanned: k, next: -1 });
            return done();
          }
          if (k + 1 >= t) {
            path.push(keyOf(st[k]));
            frames.push({ i, at: path.length - 1, scanned: k, next: -1 });
            return done();
          }
          if (this.isMultiSlot(k + 1)) {
            path.push(keyOf(st[k]));
            frames.push({ i, at: path.length - 1, scanned: k, next: k + 1 });
            i = k + 1;
            continue outer;
          }
        }
      } else {
        const list = v as unknown[];
        for (; ; k++) {
          if (k >= t) {
            path.push(list.length + (k - c));
            frames.push({ i, at: path.length - 1, scanned: k, next: -1 });
            return done();
          }
          if (this.isMultiSlot(k)) {
            path.push(list.length + (k - c));
            frames.push({ i, at: path.length - 1, scanned: k, next: k });
            i = k;
            continue outer;
          }
        }
      }
    }
    return done();
  }

  private isOpenContainer(i: number): boolean {
    const v = this.stack[i];
    if (v instanceof Map || v instanceof Set) return this.hasMark(i + 1) || v.size === 0;
    if (Array.isArray(v) && !isPyTuple(v)) return this.hasMark(i + 1) || v.length === 0;
    return false;
  }

  private isMultiSlot(idx: number): boolean {
    if (this.hasMark(idx)) return true;
    const v = this.stack[idx];
    if (v instanceof PyGlobal) return true;
    if (v instanceof NDArray && v.pending) return true;
    if (idx + 1 < this.stack.length && this.isOpenContainer(idx)) return true;
    return false;
  }

  private isSkipped(path: KeyPath): boolean {
    const skip = this.opts.skip;
    if (skip === undefined) return false;
    for (let k = 1; k <= path.length; k++) if (skip(path.slice(0, k))) return true;
    return false;
  }

  skippedPath(slot: number): KeyPath | undefined {
    if (this.opts.skip === undefined) return undefined;
    const path = this.pathTo(slot);
    return this.isSkipped(path) ? path : undefined;
  }

  // ---------------------------------------------------------------------------------------------- input window

  private progress(pos: number): void {
    if (pos > this.progressMax) {
      this.progressMax = pos;
      this.opts.onProgress?.(pos, this.size);
    }
  }

  /** Makes at least n bytes available at the cursor (streaming mode reads more; in-memory mode fails). */
  private *fill(n: number, what?: string): Reader<void> {
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
    if (n > rest) this.fail('truncated', `${what} claims ${n} bytes but only ${rest} remain in the input`, TRUNCATED_HINT);
  }

  /** n bytes at the cursor as a view when the window holds them (advancing past them), else undefined. */
  private takeNow(n: number, what: string): Uint8Array | undefined {
    this.checkLength(n, what);
    if (this.winLen - this.p < n) return undefined;
    const v = this.win.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }

  /** n bytes at the cursor as a view (valid until the next read) and advances past them. */
  private *take(n: number, what: string): Reader<Uint8Array> {
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
  *readRange(pos: number, dest: Uint8Array): Reader<void> {
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

  stage(): Uint8Array {
    if (this.stageBuf === undefined) this.stageBuf = new Uint8Array(new ArrayBuffer(STAGE_BYTES));
    return this.stageBuf;
  }

  expectBuild(arr: NDArray): void {
    this.needBuild.push(arr);
  }

  // ---------------------------------------------------------------------------------------------- stack helpers

  private pop(): unknown {
    const st = this.stack;
    const n = st.length;
    if (n === 0 || (this.marks.length > 0 && this.marks[this.marks.length - 1]! >= n)) {
      this.corrupt('stack underflow: the opcode needs a value but the stack (above the last MARK) is empty');
    }
    if (n - 1 < this.low) this.low = n - 1;
    return st.pop();
  }

  private top(): unknown {
    const n = this.stack.length;
    if (n === 0 || (this.marks.length > 0 && this.marks[this.marks.length - 1]! >= n)) {
      this.corrupt('stack underflow: the opcode needs a value but the stack (above the last MARK) is empty');
    }
    return this.stack[n - 1];
  }

  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.corrupt('MARK missing: the opcode collects items up to a MARK but none is open');
    if (m < this.low) this.low = m;
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
    this.charge(n + OBJ_COST);
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

  *run(): Reader<PyValue> {
    const table = PickleVM.TABLE;
    for (;;) {
      if (this.winLen - this.p < 1) yield* this.fill(1, 'pickle data (no STOP opcode)');
      this.opPos = this.winStart + this.p;
      const op = this.win[this.p++]!;
      this.opByte = op;
      const fixed = FIXED_BY_BYTE[op]!;
      if (fixed > 0 && this.winLen - this.p < fixed) yield* this.fill(fixed);
      const slow = table[op]!(this);
      if (slow !== undefined) yield* slow;
      if (this.stopped) return this.result;
    }
  }

  /** Opcode name -> handler, as in pickle.py's `dispatch`; every opcode is listed, the unsupported ones refuse. */
  private static readonly DISPATCH: Readonly<Record<OpName, Handler>> = {
    PROTO: (vm) => vm.loadProto(),
    FRAME: (vm) => void vm.checkLength(vm.readLen8(), 'FRAME'),
    STOP: (vm) => vm.loadStop(),
    MEMOIZE: (vm) => vm.memoPut(vm.memo.size),
    BINPUT: (vm) => vm.memoPut(vm.readUint(1)),
    LONG_BINPUT: (vm) => vm.memoPut(vm.readUint(4)),
    BINGET: (vm) => vm.memoGet(vm.readUint(1)),
    LONG_BINGET: (vm) => vm.memoGet(vm.readUint(4)),
    MARK: (vm) => vm.loadMark(),
    EMPTY_DICT: (vm) => vm.pushNew(new Map()),
    EMPTY_LIST: (vm) => vm.pushNew([]),
    EMPTY_SET: (vm) => vm.pushNew(new Set()),
    EMPTY_TUPLE: (vm) => void vm.stack.push(EMPTY_TUPLE),
    TUPLE1: (vm) => vm.loadTupleN(1),
    TUPLE2: (vm) => vm.loadTupleN(2),
    TUPLE3: (vm) => vm.loadTupleN(3),
    TUPLE: (vm) => vm.loadTuple(),
    FROZENSET: (vm) => vm.loadFrozenset(),
    SETITEM: (vm) => vm.loadSetitem(),
    SETITEMS: (vm) => vm.loadSetitems(),
    APPEND: (vm) => vm.loadAppend(),
    APPENDS: (vm) => vm.loadAppends(),
    ADDITEMS: (vm) => vm.loadAdditems(),
    BININT: (vm) => vm.loadBinint(),
    BININT1: (vm) => void vm.stack.push(vm.readUint(1)),
    BININT2: (vm) => void vm.stack.push(vm.readUint(2)),
    LONG1: (vm) => vm.loadLong(vm.readUint(1)),
    LONG4: (vm) => vm.loadLong4(),
    BINFLOAT: (vm) => vm.loadBinfloat(),
    NEWTRUE: (vm) => void vm.stack.push(true),
    NEWFALSE: (vm) => void vm.stack.push(false),
    NONE: (vm) => void vm.stack.push(null),
    SHORT_BINUNICODE: (vm) => vm.loadUnicode(vm.readUint(1)),
    BINUNICODE: (vm) => vm.loadUnicode(vm.readUint(4)),
    BINUNICODE8: (vm) => vm.loadUnicode(vm.readLen8()),
    SHORT_BINSTRING: (vm) => vm.loadBinstring(vm.readUint(1)),
    BINSTRING: (vm) => vm.loadBinstring(vm.readInt4()),
    SHORT_BINBYTES: (vm) => vm.loadBytes(vm.readUint(1)),
    BINBYTES: (vm) => vm.loadBytes(vm.readUint(4)),
    BINBYTES8: (vm) => vm.loadBytes(vm.readLen8()),
    BYTEARRAY8: (vm) => vm.loadBytes(vm.readLen8()),
    NEXT_BUFFER: (vm) =>
      vm.fail(
        'outOfBand',
        'out-of-band buffer (NEXT_BUFFER) found: the data of this array is not inside the file',
        'the file was written with pickle protocol 5 and buffer_callback; re-save it without buffer_callback (in-band)',
      ),
    READONLY_BUFFER: (vm) => void vm.top(),
    GLOBAL: (vm) => vm.loadGlobal(),
    STACK_GLOBAL: (vm) => vm.loadStackGlobal(),
    REDUCE: (vm) => vm.loadReduce('REDUCE'),
    NEWOBJ: (vm) => vm.loadReduce('NEWOBJ'),
    NEWOBJ_EX: (vm) => vm.loadNewobjEx(),
    BUILD: (vm) => vm.loadBuild(),
    POP: (vm) => vm.loadPop(),
    POP_MARK: (vm) => void vm.popMark(),
    DUP: (vm) => vm.loadDup(),
    PERSID: (vm) => vm.loadPersid(true),
    BINPERSID: (vm) => vm.loadPersid(false),
    // Protocol 0/1 text forms (CPython writes them only at protocols 0 and 1) and class instantiation.
    INT: (vm) => vm.refuseProtocol0('INT'),
    LONG: (vm) => vm.refuseProtocol0('LONG'),
    FLOAT: (vm) => vm.refuseProtocol0('FLOAT'),
    STRING: (vm) => vm.refuseProtocol0('STRING'),
    UNICODE: (vm) => vm.refuseProtocol0('UNICODE'),
    DICT: (vm) => vm.refuseProtocol0('DICT'),
    LIST: (vm) => vm.refuseProtocol0('LIST'),
    GET: (vm) => vm.refuseProtocol0('GET'),
    PUT: (vm) => vm.refuseProtocol0('PUT'),
    INST: (vm) => vm.refuseClass('INST'),
    OBJ: (vm) => vm.refuseClass('OBJ'),
    EXT1: (vm) => vm.refuseClass('EXT1'),
    EXT2: (vm) => vm.refuseClass('EXT2'),
    EXT4: (vm) => vm.refuseClass('EXT4'),
  };

  /** Byte -> handler, built once from DISPATCH; bytes that are no opcode refuse. */
  private static readonly TABLE: readonly Handler[] = (() => {
    const unknown: Handler = (vm) => vm.fail('opcode', `unknown opcode 0x${vm.opByte.toString(16).padStart(2, '0')}`, 'the file is corrupt or not a pickle');
    const t = new Array<Handler>(256).fill(unknown);
    for (const name of Object.keys(OPCODES) as OpName[]) t[OPCODES[name].byte] = PickleVM.DISPATCH[name];
    return t;
  })();

  // ---------------------------------------------------------------------------------------------- opcode handlers

  private loadProto(): undefined {
    const proto = this.readUint(1);
    if (proto > HIGHEST_PROTOCOL) this.fail('protocol', `unsupported pickle protocol ${proto}`, 'this reader handles protocols 2 to 5; re-save the file with protocol 4');
    return undefined;
  }

  private loadStop(): Reader<void> {
    const result = this.pop();
    this.progress(this.pos);
    this.stopped = true;
    return this.finish(result);
  }

  private memoPut(idx: number): undefined {
    const memo = this.memo;
    const before = memo.size;
    memo.set(idx, this.top());
    if (memo.size !== before) this.charge(OBJ_COST);
    return undefined;
  }

  private memoGet(idx: number): undefined {
    let v = this.memo.get(idx);
    if (v === undefined && !this.memo.has(idx)) {
      this.fail('memo', `memo entry ${idx} was never stored`, 'the pickle is corrupt (a reference points to an object that was not written)');
    }
    if (v instanceof NDArray && v.replacement !== undefined) v = v.replacement;
    if (v instanceof LazyPayload) this.lazyReused = true;
    this.stack.push(v);
    return undefined;
  }

  private loadMark(): undefined {
    if (this.marks.length >= this.limits.maxDepth) {
      this.fail('tooDeep', `more than ${this.limits.maxDepth} MARKs are open at once: containers nest deeper than the depth budget`, 'the file is corrupt or hostile: feature files nest a few levels');
    }
    this.marks.push(this.stack.length);
    return undefined;
  }

  private pushNew(v: unknown): undefined {
    this.charge(OBJ_COST);
    this.stack.push(v);
    return undefined;
  }

  private loadTupleN(n: 1 | 2 | 3): undefined {
    this.charge(OBJ_COST + n * SLOT_COST);
    let t: unknown[];
    if (n === 1) t = [this.pop()];
    else if (n === 2) {
      const b = this.pop();
      t = [this.pop(), b];
    } else {
      const c = this.pop();
      const b = this.pop();
      t = [this.pop(), b, c];
    }
    this.stack.push(markTuple(t));
    return undefined;
  }

  private loadTuple(): undefined {
    const items = this.popMark();
    this.charge(OBJ_COST + items.length * SLOT_COST);
    this.stack.push(items.length === 0 ? EMPTY_TUPLE : markTuple(items));
    return undefined;
  }

  private loadFrozenset(): undefined {
    const items = this.popMark();
    this.charge(OBJ_COST + items.length * SLOT_COST);
    this.stack.push(new Set(items));
    return undefined;
  }

  private loadSetitem(): undefined {
    const v = this.pop();
    const k = this.pop();
    this.setItems(this.top(), [k, v]);
    return undefined;
  }

  private loadSetitems(): undefined {
    const items = this.popMark();
    if (items.length % 2 !== 0) this.corrupt(`SETITEMS with an odd number of items (${items.length})`);
    this.setItems(this.top(), items);
    return undefined;
  }

  private setItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Map)) this.corrupt(`SETITEM(S) on a ${pyTypeName(target)}, expected a dict`);
    this.charge(items.length * SLOT_COST);
    if (this.opts.skip === undefined) {
      for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
      return;
    }
    const base = this.pathTo(this.stack.length - 1);
    const baseSkipped = this.isSkipped(base);
    const skip = this.opts.skip;
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      let v = items[i + 1];
      if (!(v instanceof Skipped)) {
        const path = [...base, keyOf(k)];
        if (baseSkipped || skip(path)) v = skippedMarker(v, path);
      }
      target.set(k, v);
    }
  }

  private loadAppend(): undefined {
    const v = this.pop();
    const list = this.top();
    if (!Array.isArray(list) || isPyTuple(list)) this.corrupt(`APPEND on a ${pyTypeName(list)}, expected a list`);
    this.charge(SLOT_COST);
    list.push(v);
    return undefined;
  }

  private loadAppends(): undefined {
    const items = this.popMark();
    const list = this.top();
    if (!Array.isArray(list) || isPyTuple(list)) this.corrupt(`APPENDS on a ${pyTypeName(list)}, expected a list`);
    this.charge(items.length * SLOT_COST);
    for (const it of items) list.push(it);
    return undefined;
  }

  private loadAdditems(): undefined {
    const items = this.popMark();
    const set = this.top();
    if (!(set instanceof Set)) this.corrupt(`ADDITEMS on a ${pyTypeName(set)}, expected a set`);
    this.charge(items.length * SLOT_COST);
    for (const it of items) set.add(it);
    return undefined;
  }

  private loadBinint(): undefined {
    this.stack.push(this.dv.getInt32(this.p, true));
    this.p += 4;
    return undefined;
  }

  private readInt4(): number {
    const n = this.dv.getInt32(this.p, true);
    this.p += 4;
    return n;
  }

  private loadBinfloat(): undefined {
    this.stack.push(this.dv.getFloat64(this.p, false));
    this.p += 8;
    return undefined;
  }

  private loadLong4(): Reader<void> | undefined {
    const n = this.readInt4();
    if (n < 0) this.corrupt(`LONG4 with negative length ${n}`);
    if (n > MAX_LONG_BYTES) this.fail('bigInt', `integer of ${n} bytes is larger than this reader accepts (${MAX_LONG_BYTES})`);
    return this.loadLong(n);
  }

  private loadLong(n: number): Reader<void> | undefined {
    this.charge(n + OBJ_COST);
    return this.pushPayload(n, 'LONG', 'long');
  }

  private loadUnicode(n: number): Reader<void> | undefined {
    const st = this.stack;
    // A long str right after _codecs.encode is array data (protocol 2): keep it in the file for now.
    if (n >= LAZY_MIN && st.length > 0 && isEncode(st[st.length - 1])) {
      st.push(this.lazy(n, 'utf8', 'str'));
      return undefined;
    }
    return this.pushPayload(n, 'str', 'text');
  }

  private loadBinstring(n: number): Reader<void> | undefined {
    if (n < 0) this.corrupt(`BINSTRING with negative length ${n}`);
    if (n >= LAZY_MIN) {
      this.stack.push(this.lazy(n, 'str8', 'py2 str'));
      return undefined;
    }
    this.charge(n + OBJ_COST);
    return this.pushPayload(n, 'py2 str', 'latin1');
  }

  private loadBytes(n: number): Reader<void> | undefined {
    if (n >= LAZY_MIN) {
      this.stack.push(this.lazy(n, 'bytes', 'bytes'));
      return undefined;
    }
    this.charge(n + OBJ_COST);
    return this.pushPayload(n, 'bytes', 'bytes');
  }

  /** Pushes the n-byte payload at the cursor as a value; reads more input (slow path) only when the window lacks it. */
  private pushPayload(n: number, what: string, as: PayloadAs): Reader<void> | undefined {
    const b = this.takeNow(n, what);
    if (b === undefined) return this.pushPayloadSlow(n, what, as);
    this.stack.push(this.payloadValue(b, as));
    return undefined;
  }

  private *pushPayloadSlow(n: number, what: string, as: PayloadAs): Reader<void> {
    this.stack.push(this.payloadValue(yield* this.take(n, what), as));
  }

  private payloadValue(b: Uint8Array, as: PayloadAs): unknown {
    switch (as) {
      case 'text':
        return this.decodeText(b);
      case 'long':
        return decodeLong(b);
      case 'latin1':
        return latin1String(b);
      case 'bytes':
        return b.slice();
    }
  }

  private *loadGlobal(): Reader<void> {
    const mod = yield* this.readLine();
    const name = yield* this.readLine();
    this.stack.push(this.resolveGlobal(mod, name));
  }

  private loadStackGlobal(): undefined {
    const name = this.pop();
    const mod = this.pop();
    if (typeof mod !== 'string' || typeof name !== 'string') {
      this.corrupt(`STACK_GLOBAL needs two str, got ${pyTypeName(mod)} and ${pyTypeName(name)}`);
    }
    this.stack.push(this.resolveGlobal(mod, name));
    return undefined;
  }

  private *loadReduce(opname: string): Reader<void> {
    const args = this.pop();
    const fn = this.pop();
    this.stack.push(yield* this.call(fn, args, opname));
  }

  private *loadNewobjEx(): Reader<void> {
    const kwargs = this.pop();
    const args = this.pop();
    const cls = this.pop();
    if (!(kwargs instanceof Map) || kwargs.size > 0) this.fail('badArgs', 'NEWOBJ_EX with keyword arguments is not supported');
    this.stack.push(yield* this.call(cls, args, 'NEWOBJ_EX'));
  }

  private *loadBuild(): Reader<void> {
    const state = this.pop();
    const obj = this.pop();
    const st = this.stack;
    this.focus = st.length;
    if (obj instanceof NDArray || obj instanceof DType) {
      st.push(yield* buildNumpy(this, obj, state, st.length));
    } else if (typeof obj === 'object' && obj !== null && this.extraMade.get(obj)?.build !== undefined) {
      const h = this.extraMade.get(obj)!;
      st.push(this.runHandler('BUILD', () => h.build!(obj, state)));
    } else {
      this.fail('corrupt', `BUILD on a ${pyTypeName(obj)}: only numpy arrays and dtypes can be restored`);
    }
    this.focus = -1;
  }

  private loadPop(): undefined {
    const st = this.stack;
    if (st.length > 0 && !(this.marks.length > 0 && this.marks[this.marks.length - 1]! >= st.length)) this.pop();
    else this.popMark();
    return undefined;
  }

  private loadDup(): undefined {
    const v = this.top();
    if (v instanceof LazyPayload) this.lazyReused = true;
    this.stack.push(v);
    return undefined;
  }

  private loadPersid(text: boolean): Reader<void> | undefined {
    const load = this.opts.persistentLoad;
    const name = text ? 'PERSID' : 'BINPERSID';
    if (load === undefined) {
      this.fail('opcode', `persistent ids (${name}) are not supported`, 'the file references external objects (e.g. torch storages); save plain numpy arrays instead');
    }
    if (!text) {
      const pid = this.pop();
      this.stack.push(this.runHandler('persistent id', () => load(pid)));
      return undefined;
    }
    return this.loadPersidText(load);
  }

  private *loadPersidText(load: (pid: unknown) => unknown): Reader<void> {
    const pid = yield* this.readLine();
    this.stack.push(this.runHandler('persistent id', () => load(pid)));
  }

  private refuseProtocol0(name: OpName): never {
    this.fail('opcode', `opcode ${name} belongs to pickle protocol 0/1, which this reader does not support`, PROTOCOL0_HINT);
  }

  private refuseClass(name: OpName): never {
    this.fail('opcode', `opcode ${name} (class instantiation / extension registry) is not supported`, CLASS_HINT);
  }

  private *readLine(): Reader<string> {
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
      this.fail(
        'forbiddenGlobal',
        `forbidden global ${printable(q, 200)}: this reader only accepts numpy array/dtype/scalar reconstruction, _codecs.encode and a few builtins (reading never executes code)`,
        'do not load pickles from untrusted sources; if the file is yours, re-save it as a plain dict of numpy arrays, lists and str (pickle protocol 4)',
      );
    }
    this.charge(OBJ_COST);
    return new PyGlobal(mod, name, fn);
  }

  // ---------------------------------------------------------------------------------------------- callables

  private *call(fn: unknown, args: unknown, opname: string): Reader<unknown> {
    if (!(fn instanceof PyGlobal)) this.corrupt(`${opname} on a ${pyTypeName(fn)}: not a callable`);
    if (!isPyTuple(args)) this.corrupt(`${opname} arguments must be a tuple, got ${pyTypeName(args)}`);
    const a = args as unknown[];
    const q = fn.qualified;
    const bad: (msg: string) => never = (msg) =>
      this.fail('badArgs', `${q}(...): ${msg}`, 'the pickle is corrupt or was written by an unsupported numpy version');
    if (isNumpyFn(fn.fn)) return yield* callNumpy(this, fn.fn, q, a, this.stack.length);
    switch (fn.fn) {
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
        if (typeof obj !== 'string') bad(`expected a str, got ${pyTypeName(obj)}`);
        this.charge(obj.length + OBJ_COST);
        const b = stringToLatin1(obj);
        if (b === undefined) this.fail('text', 'latin-1 payload holds a code point above 255', 'the file is corrupt');
        return b;
      }
      case 'extra':
        return yield* this.callExtra(q, a, bad);
      default:
        return this.callBuiltin(fn.fn as BuiltinFn, a, bad);
    }
  }

  private callBuiltin(fn: BuiltinFn, a: unknown[], bad: (msg: string) => never): unknown {
    switch (fn) {
      case 'set':
      case 'frozenset':
      case 'list':
      case 'tuple': {
        const items = a.length === 0 ? [] : this.iterableOf(a[0], bad);
        this.charge(OBJ_COST + items.length * SLOT_COST);
        if (fn === 'set' || fn === 'frozenset') return new Set(items);
        return fn === 'tuple' ? markTuple([...items]) : [...items];
      }
      case 'dict': {
        if (a.length === 0) return new Map();
        const src = a[0];
        if (src instanceof Map) {
          this.charge(OBJ_COST + src.size * 2 * SLOT_COST);
          return new Map(src);
        }
        const pairs = this.iterableOf(src, bad);
        this.charge(OBJ_COST + pairs.length * 2 * SLOT_COST);
        const m = new Map<unknown, unknown>();
        for (const pair of pairs) {
          if (!Array.isArray(pair) || pair.length !== 2) bad('dict() items must be pairs');
          m.set(pair[0], pair[1]);
        }
        return m;
      }
      case 'bytearray':
      case 'bytes': {
        if (a.length === 0) return new Uint8Array(0);
        const src = a[0];
        if (src instanceof Uint8Array) {
          this.charge(src.length + OBJ_COST);
          return src.slice();
        }
        if (src instanceof LazyPayload && src.kind === 'bytes') return src;
        if (Array.isArray(src) && src.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 256)) {
          this.charge(src.length + OBJ_COST);
          return Uint8Array.from(src as number[]);
        }
        return bad(`unsupported argument ${pyTypeName(src)}`);
      }
    }
  }

  private *callExtra(q: string, a: unknown[], bad: (msg: string) => never): Reader<unknown> {
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
    this.charge(OBJ_COST);
    const out = this.runHandler(`${q}(...)`, () => callFn(a));
    if (typeof h !== 'function' && typeof out === 'object' && out !== null) this.extraMade.set(out, h);
    return out;
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
    return bad(`expected an iterable, got ${pyTypeName(v)}`);
  }

  // ---------------------------------------------------------------------------------------------- lazy payloads

  /** Decodes a UTF-8 payload whose code points are bytes (protocol 2 `_codecs.encode(s, 'latin1')`) into a sink. */
  *streamUtf8Latin1(lz: LazyPayload, sink: NumericSink): Reader<void> {
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

  *materialiseBytes(l: LazyPayload, expected?: number): Reader<Uint8Array> {
    if (l.kind === 'utf8latin1') {
      if (expected === undefined) {
        // decoded length unknown: decode the text, then map code points to bytes
        const text = (yield* this.materialise(new LazyPayload(l.pos, l.length, 'utf8'))) as string;
        const b = stringToLatin1(text);
        if (b === undefined) this.fail('text', 'latin-1 payload holds a code point above 255', 'the file is corrupt');
        return b;
      }
      const plan = makePlan(new DType('u', 1, '|', 'u1'), 'uint8', [expected], expected, false, this.opts);
      yield* this.streamUtf8Latin1(l, new NumericSink(this.stage(), plan));
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

  /** The value of a lazy payload, read once: every later reference shares it, as Python shares a memoized object. */
  *materialise(l: LazyPayload): Reader<PyValue> {
    if (l.value !== undefined) return l.value;
    let v: PyValue;
    if (l.kind === 'utf8') {
      const b = this.allocBytes(l.length);
      yield* this.readRange(l.pos, b);
      v = this.decodeText(b);
    } else {
      this.charge(l.length + OBJ_COST);
      const b = yield* this.materialiseBytes(l);
      v = l.kind === 'str8' ? latin1String(b) : b;
    }
    l.value = v;
    return v;
  }

  // ---------------------------------------------------------------------------------------------- finish

  private *finish(root: unknown): Reader<void> {
    checkArraysBuilt(this, this.needBuild);
    this.result = (yield* this.resolveLazies(root)) as PyValue;
  }

  /** Replaces the lazy payloads that ended up in containers by their values (iterative: no recursion limit). */
  private *resolveLazies(result: unknown): Reader<unknown> {
    const needWalk = this.lazyReused || this.lazies.some((l) => !l.consumed);
    if (!needWalk) return result;
    if (result instanceof LazyPayload) return yield* this.materialise(result);
    const seen = new Set<object>();
    const todo: unknown[] = [result];
    while (todo.length > 0) {
      const c = todo.pop();
      if (typeof c !== 'object' || c === null || seen.has(c)) continue;
      seen.add(c);
      if (Array.isArray(c)) {
        if (Object.isFrozen(c)) continue;
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
  return `<${pyTypeName(k)}>`;
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

export { OPNAME_BY_BYTE };
export type { NDDtypeName };
