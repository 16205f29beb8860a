// Loads mmsa's optional native kernels (native/build/mmsa_native.node, built at install by scripts/build-native.mjs)
// and runs float32 GEMM in place on the wasm heap. Phase 7 (execute); only the runtime imports this.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MmsaError } from '../errors.js';
import { packageRoot } from '../paths.js';
/** 'auto': use the kernels when they are built (the default); 'on': required; 'off': never. */
import type { NativeMode } from './run-types.js';

export type { NativeMode };

export interface NativeKernels {
  /** Offsets and strides count float32 elements of `heap`; see native/src/sgemm.h. */
  sgemm(heap: ArrayBufferLike, batch: number, M: number, N: number, K: number, transA: number, transB: number,
    offA: number, strideA: number, offB: number, strideB: number, offC: number, strideC: number, threads: number): void;
  info(): { version: string; isa: string };
  /** out[c] = sum over r of in[r*C + c], offsets in float32 elements of heap. */
  sumRows(heap: ArrayBufferLike, R: number, C: number, offIn: number, offOut: number): void;
  /**
   * Fused Adam/AdamW step: parameter, gradient and new parameter at offsets (float32 elements) of heap, the moments in
   * arrays outside it, updated in place; see native/src/optim.h.
   */
  adamHost(heap: ArrayBufferLike, n: number, offP: number, offG: number, offPOut: number, m: Float32Array, v: Float32Array,
    lr: number, b1: number, b2: number, eps: number, weightDecay: number, stepSize: number, bc2Sqrt: number, decoupled: boolean): void;
  /** dst = heap[off..off+n) (first) or dst += it, offsets in float32 elements. */
  accumulate(heap: ArrayBufferLike, off: number, n: number, dst: Float32Array, first: boolean): void;
  /** BERT layer kernels (native/src/bert.h); offsets in float32 elements of heap, masks outside it (null: none). */
  biasGelu(heap: ArrayBufferLike, N: number, C: number, offX: number, offBias: number, offPre: number, offAct: number, threads: number): void;
  geluBackward(heap: ArrayBufferLike, n: number, offDAct: number, offPre: number, offDPre: number, threads: number): void;
  /** offBias and offResidual -1: a plain LayerNorm of a. */
  layerNormForward(heap: ArrayBufferLike, N: number, C: number, offA: number, offBias: number, offResidual: number, offGamma: number,
    offBeta: number, offY: number, offXhat: number, offRstd: number, threads: number, mask: Float32Array | null, eps: number): void;
  layerNormBackward(heap: ArrayBufferLike, N: number, C: number, offDy: number, offXhat: number, offRstd: number, offGamma: number,
    offDx: number, offDMasked: number, offDGamma: number, offDBeta: number, offDBias: number, threads: number, mask: Float32Array | null): void;
  softmaxForward(heap: ArrayBufferLike, B: number, heads: number, L: number, offS: number, offAddMask: number, offP: number,
    offDropped: number, threads: number, mask: Float32Array | null, scale: number): void;
  /** offAddMask -1: no mask. */
  softmaxForwardRows(heap: ArrayBufferLike, rows: number, Tq: number, Tk: number, offS: number, offAddMask: number, offP: number,
    offDropped: number, threads: number, mask: Float32Array | null, scale: number): void;
  softmaxBackward(heap: ArrayBufferLike, rows: number, L: number, offP: number, offDDropped: number, offDs: number, threads: number,
    mask: Float32Array | null, scale: number): void;
  mulMask(heap: ArrayBufferLike, n: number, offX: number, offOut: number, threads: number, mask: Float32Array): void;
  /** Dense embedding gradient: out (V x H) zeroed, then row ids[r] += dy[r]; ids int32 at offIds. */
  embeddingGrad(heap: ArrayBufferLike, n: number, H: number, V: number, offIds: number, offDy: number, offOut: number): void;
  /** See native/src/lstm.h; the saved arrays are all null (inference) or all given. */
  lstmForward(B: number, T: number, H: number, K: number, order: Int32Array, lens: Int32Array, xs: Float32Array, W: Float32Array,
    y: Float32Array, acts: Float32Array | null, tanhC: Float32Array | null, cPrev: Float32Array | null, hPrev: Float32Array | null,
    threads: number): void;
  lstmBackward(B: number, T: number, H: number, K: number, order: Int32Array, lens: Int32Array, dys: Float32Array, acts: Float32Array,
    tanhC: Float32Array, cPrev: Float32Array, W: Float32Array, dxp: Float32Array, threads: number): void;
}

export interface NativeStatus {
  loaded: boolean;
  path: string;
  /** Instruction set the kernels were compiled for (avx512, avx2, generic). */
  isa?: string;
  version?: string;
  /** Why the kernels are not in use (not built, disabled, failed to load). */
  reason?: string;
}

let cached: { mod?: NativeKernels; status: NativeStatus } | undefined;

/** The entry points this code calls; native/src/addon.c's MMSA_NATIVE_VERSION changes with them. */
export const NATIVE_VERSION = '4';

export function nativeLibraryPath(): string {
  return process.env.MMSA_NATIVE_PATH || join(packageRoot(), 'native', 'build', 'mmsa_native.node');
}

/** Load the addon once per process; never throws (the reason is in the status). */
export function loadNativeKernels(): { mod?: NativeKernels; status: NativeStatus } {
  if (cached) return cached;
  const path = nativeLibraryPath();
  if (!existsSync(path)) {
    cached = { status: { loaded: false, path, reason: `not built (${path} is missing): run \`node scripts/build-native.mjs --strict\` (needs a C compiler)` } };
    return cached;
  }
  const missing = missingCpuFlags(path);
  if (missing.length > 0) {
    cached = { status: { loaded: false, path, reason: `${path} was built on a CPU with features this one lacks (${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}); rebuild it here with \`node scripts/build-native.mjs --strict --force\`` } };
    return cached;
  }
  try {
    const mod = createRequire(import.meta.url)(path) as NativeKernels;
    const { version, isa } = mod.info();
    if (version !== NATIVE_VERSION) {
      cached = { status: { loaded: false, path, reason: `${path} is version ${version}, this mmsa needs version ${NATIVE_VERSION} (built from older sources); rebuild with \`node scripts/build-native.mjs --strict --force\`` } };
      return cached;
    }
    cached = { mod, status: { loaded: true, path, isa, version } };
  } catch (e) {
    cached = { status: { loaded: false, path, reason: `failed to load ${path}: ${(e as Error).message.split('\n')[0]}; rebuild with \`node scripts/build-native.mjs --strict --force\`` } };
  }
  return cached;
}

const ISA_FLAG = /^(sse|ssse|avx|fma|f16c|bmi|adx|aes|sha|vaes|vpclmul|pclmul|gfni|popcnt|lzcnt|abm|movbe|amx|xop|rdrand|rdseed|asimd|sve|fp|atomics|dotprod|i8mm|bf16)/;

/**
 * CPU features the library's build machine had and this machine lacks (-march=native code would die of SIGILL).
 * Empty when either side is unknown (no record, no /proc/cpuinfo).
 */
export function missingCpuFlags(libraryPath: string, cpuinfo = '/proc/cpuinfo'): string[] {
  let built: string[] | null = null;
  try {
    const rec = JSON.parse(readFileSync(`${libraryPath}.cpu.json`, 'utf8')) as { march: string; flags: string[] | null };
    if (!rec.march.includes('native')) return [];
    // Instruction-set flags only: hypervisor and OS flags ('hypervisor', 'rep_good', ...) say nothing about code.
    built = rec.flags && rec.flags.filter((f) => ISA_FLAG.test(f));
  } catch {
    return [];
  }
  if (!built) return [];
  let here: Set<string>;
  try {
    const line = readFileSync(cpuinfo, 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    if (!line) return [];
    here = new Set(line.split(':')[1]!.trim().split(/\s+/));
  } catch {
    return [];
  }
  return built.filter((f) => !here.has(f));
}

/** The mode from an explicit option, else MMSA_NATIVE (0/off, 1/on, auto), else 'auto'. */
export function resolveNativeMode(mode?: NativeMode): NativeMode {
  if (mode) return mode;
  const env = (process.env.MMSA_NATIVE ?? '').toLowerCase();
  if (env === '0' || env === 'off' || env === 'false') return 'off';
  if (env === '1' || env === 'on' || env === 'true') return 'on';
  return 'auto';
}

/** Threads for native GEMM: explicit, else MMSA_THREADS, else every core. Results do not depend on it. */
export function resolveThreads(threads?: number): number {
  const fromEnv = Number(process.env.MMSA_THREADS);
  const n = threads ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism());
  return Math.max(1, Math.min(64, Math.floor(n)));
}

/** The kernels for a mode: undefined when off or unavailable in 'auto'; an MmsaError when 'on' and unavailable. */
export function nativeKernelsFor(mode: NativeMode): { mod?: NativeKernels; status: NativeStatus } {
  if (mode === 'off') return { status: { loaded: false, path: nativeLibraryPath(), reason: 'disabled (--native off or MMSA_NATIVE=0)' } };
  const r = loadNativeKernels();
  if (!r.mod && mode === 'on') {
    throw new MmsaError('MSA6503', `native kernels requested but unavailable: ${r.status.reason}`, {
      hint: 'build them with `node scripts/build-native.mjs --strict`, or run with --native auto|off',
      details: { path: r.status.path },
    });
  }
  return r;
}
