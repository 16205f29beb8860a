// Helpers of the hostile-input suite: run a piece of the built package (dist/) in a child process under an
// address-space cap and a time limit, reporting its result or error, peak RSS and wall time; build pickles byte by
// byte. Test support for phases 1 and 7 (parsing specs, reading data).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// MMSA_HOSTILE_DIST runs the suite against another build (e.g. an older one, to see that each case used to fail).
const dist = process.env['MMSA_HOSTILE_DIST'] ?? join(repoRoot, 'dist');

/** Address space a child may take: Node itself reserves ~0.9 GiB, so this leaves ~0.6 GiB for the work. */
export const CHILD_AS_BYTES = 1.5 * 1024 ** 3;

export interface ChildError {
  name: string;
  code?: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export interface ChildOutcome<T> {
  /** The child's return value (JSON), when it returned. */
  value?: T;
  /** The error it threw, when it threw. */
  error?: ChildError;
  /** Peak resident memory of the child, MiB. */
  peakRssMiB: number;
  /** Wall time of the work inside the child (not process start), ms. */
  ms: number;
  /** Set when the child died (out of memory, stack overflow outside the work, killed by the time limit). */
  crash?: string;
}

/**
 * Runs `body` (the body of an async function; `mod(path)` imports `dist/<path>`, `input` is the given JSON) in a
 * fresh Node process capped at `asBytes` of address space and `timeoutMs` of wall time.
 */
export function runCapped<T = unknown>(body: string, input: unknown = null, opts: { asBytes?: number; timeoutMs?: number } = {}): ChildOutcome<T> {
  if (!existsSync(join(dist, 'index.js'))) throw new Error('dist/ is missing: the hostile suite runs the built package (npm test builds it; or npx tsc -p tsconfig.build.json)');
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-hostile-'));
  try {
    const script = join(dir, 'case.mjs');
    writeFileSync(join(dir, 'input.json'), JSON.stringify(input));
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
const mod = (p) => import(${JSON.stringify(pathToFileURL(`${dist}/`).href)} + p);
const input = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'input.json'))}, 'utf8'));
const out = {};
const t0 = performance.now();
try {
  out.value = await (async () => { ${body} })();
} catch (e) {
  out.error = { name: e?.name ?? 'Error', code: e?.code, message: String(e?.message ?? e), hint: e?.hint, details: e?.details };
}
out.ms = performance.now() - t0;
out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write('\\n@@RESULT@@' + JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? String(v) : v)) + '\\n');
`,
    );
    const cmd = ['prlimit', `--as=${Math.floor(opts.asBytes ?? CHILD_AS_BYTES)}`, '--', process.execPath, script];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, cwd: repoRoot });
    const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT@@'));
    if (!line) {
      const why = r.error ? String(r.error.message) : `exit ${r.status} signal ${r.signal}`;
      return { peakRssMiB: NaN, ms: NaN, crash: `${why}: ${r.stderr.slice(-2000)}` };
    }
    return JSON.parse(line.slice('@@RESULT@@'.length)) as ChildOutcome<T>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A temporary directory removed by the returned function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-hostile-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ------------------------------------------------------------------------------------------- pickle builder

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  let v = n;
  for (let i = 0; i < bytes; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}

/** Writes pickle opcodes one by one (names as in CPython's pickletools), for inputs no pickle.dump would write. */
export class PickleBuilder {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];

  private flush(): void {
    if (this.cur.length > 0) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }

  op(...b: number[]): this {
    for (const x of b) this.cur.push(x);
    if (this.cur.length > 1 << 16) this.flush();
    return this;
  }

  raw(b: Uint8Array): this {
    this.flush();
    this.chunks.push(b);
    return this;
  }

  proto(n = 4): this {
    return this.op(0x80, n);
  }
  mark(): this {
    return this.op(0x28);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  none(): this {
    return this.op(0x4e);
  }
  newFalse(): this {
    return this.op(0x89);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tuple1(): this {
    return this.op(0x85);
  }
  tuple2(): this {
    return this.op(0x86);
  }
  tuple3(): this {
    return this.op(0x87);
  }
  append(): this {
    return this.op(0x61);
  }
  appends(): this {
    return this.op(0x65);
  }
  setitem(): this {
    return this.op(0x73);
  }
  setitems(): this {
    return this.op(0x75);
  }
  memoize(): this {
    return this.op(0x94);
  }
  put(i: number): this {
    return i < 256 ? this.op(0x71, i) : this.op(0x72, ...le(i, 4));
  }
  get(i: number): this {
    return i < 256 ? this.op(0x68, i) : this.op(0x6a, ...le(i, 4));
  }
  pop(): this {
    return this.op(0x30);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  int(n: number): this {
    if (Number.isInteger(n) && n >= 0 && n < 256) return this.op(0x4b, n);
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a, ...le(n >>> 0, 4));
    throw new Error(`int ${n} out of range`);
  }
  float(x: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    return this.op(0x47, ...b);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) return this.op(0x8c, b.length, ...b);
    this.op(0x58, ...le(b.length, 4));
    return this.raw(b);
  }
  bytes(b: Uint8Array): this {
    if (b.length < 256) return this.op(0x43, b.length, ...b);
    this.op(0x42, ...le(b.length, 4));
    return this.raw(b);
  }
  /** GLOBAL module\nname\n (protocol 2 style). */
  global(mod: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${mod}\n${name}\n`, 'latin1'));
  }
  /**
   * A numpy array as pickle protocol 2 writes it: _reconstruct(ndarray, (0,), b'b') then BUILD with
   * (1, shape, dtype, is_fortran, data). `data` is pushed by the callback (bytes, or a memo GET).
   */
  ndarray(shape: number[], typestr: string, data: (b: this) => void): this {
    this.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).tuple1().bytes(Uint8Array.of(0x62)).tuple3().reduce();
    this.mark().int(1).mark();
    for (const d of shape) this.int(d);
    this.tuple().str(typestr).newFalse();
    data(this);
    return this.tuple().build();
  }
  /** A float32 array from values. */
  f32(shape: number[], values: ArrayLike<number>): this {
    const b = new Uint8Array(Float32Array.from(values).buffer);
    return this.ndarray(shape, '<f4', (p) => p.bytes(b));
  }
  stop(): Uint8Array {
    this.op(0x2e);
    this.flush();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
