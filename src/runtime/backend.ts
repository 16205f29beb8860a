// Chooses and prepares the TensorFlow.js backend (wasm by default): wasm's patches are in backend/wasm-patches.ts, the
// native kernels' glue in backend/native-glue.ts and backend/host-kernels.ts. Phase 7 (execute); loaded lazily.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { MmsaError } from '../errors.js';
import type { MemoryUsage } from './events.js';
import { nativeKernelsFor, resolveNativeMode, resolveThreads, type NativeMode } from './native.js';
import { BACKEND_NAMES, isBackendName, type BackendName } from './run-types.js';
import { registerSingleOutputGradients } from './backend/gradients.js';
import { setNativeMatMul } from './backend/native-glue.js';
import { bridgeMissingWasmKernels, fastSliceOnWasm, installNativeSum, setWasmMatMulPatch, shareIdentityOnWasm } from './backend/wasm-patches.js';

export { setNativeMatMul, wasmHeapView } from './backend/native-glue.js';
export { activeNativeKernels, isNativeMatMulActive, isWasmMatMulPatched, setWasmMatMulPatch } from './backend/wasm-patches.js';
export { nativeAccumulate, nativeAdamHostStep, type AdamScalars } from './backend/host-kernels.js';

export type { BackendName };

export interface BackendInfo {
  /** The name that was asked for. */
  name: BackendName;
  /** tfjs version (`@tensorflow/tfjs`), plus the native binding's version for tensorflow backends. */
  version: string;
  details: {
    /** What `tf.getBackend()` reports (tfjs-node registers itself as 'tensorflow' for both cpu and gpu). */
    tfBackend: string;
    simd?: boolean;
    threads?: number;
    /** Kernels that wasm lacks and that run through the cpu bridge. */
    bridgedKernels?: string[];
    /** Whether BatchMatMul/_FusedMatMul transposes are materialised before XNNPACK (deps.md 1.4). */
    matMulPatch?: boolean;
    nativeVersion?: string;
    /** mmsa's own native kernels (wasm only): float32 BatchMatMul in place on the wasm heap. */
    native?: { active: boolean; isa?: string; version?: string; threads?: number; reason?: string };
  };
}

export interface SetupBackendOptions {
  /** Default true. Off only for benchmarks that measure the unpatched behaviour. */
  matMulPatch?: boolean;
  /** wasm only: mmsa's native GEMM for BatchMatMul ('auto' = when built; default from MMSA_NATIVE, else 'auto'). */
  native?: NativeMode;
  /** Threads of the native GEMM (default MMSA_THREADS, else every core); results do not depend on it. */
  threads?: number;
}

const cache = new Map<BackendName, Promise<BackendInfo>>();

/**
 * Select and initialise a backend. Idempotent: repeated calls return the same info (the matMul patch
 * option may be toggled between calls, which only benchmarks do).
 */
export async function setupBackend(name: BackendName = 'wasm', opts: SetupBackendOptions = {}): Promise<BackendInfo> {
  // Callers from JavaScript, and a run directory's manifest, are not type-checked: any other value would be taken for
  // tensorflow-gpu and blamed on a missing package.
  if (!isBackendName(name)) {
    const v: unknown = name;
    const kind = v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
    throw new MmsaError('MSA6504', typeof v === 'string' ? `unknown backend '${v}'` : `unknown backend: ${kind} where a backend name was expected`, {
      hint: `ask for one of ${BACKEND_NAMES.join(', ')} (a string: setupBackend('wasm'), --backend wasm)`,
      details: { backend: String(v), known: [...BACKEND_NAMES] },
    });
  }
  tf.enableProdMode();
  let p = cache.get(name);
  if (!p) {
    p = initBackend(name);
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  const info = await p;
  const tfName = info.details.tfBackend;
  if (tf.getBackend() !== tfName) {
    await tf.setBackend(tfName);
    await tf.ready();
  }
  if (name === 'wasm') {
    const patch = opts.matMulPatch ?? true;
    setWasmMatMulPatch(patch);
    info.details.matMulPatch = patch;
    const { mod, status } = nativeKernelsFor(resolveNativeMode(opts.native));
    const threads = resolveThreads(opts.threads);
    setNativeMatMul(patch ? mod : undefined, threads);
    installNativeSum();
    info.details.native = mod && patch
      ? { active: true, isa: status.isa, version: status.version, threads }
      : { active: false, reason: patch ? status.reason : 'the matMul patch is off' };
  }
  return info;
}

async function initBackend(name: BackendName): Promise<BackendInfo> {
  const version = tf.version_core;
  registerSingleOutputGradients();
  if (name === 'cpu' || name === 'wasm') {
    const ok = await tf.setBackend(name);
    if (!ok) throw new MmsaError('MSA6502', `tfjs backend '${name}' failed to initialise`);
    await tf.ready();
    if (name === 'cpu') return { name, version, details: { tfBackend: 'cpu' } };
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const bridgedKernels = bridgeMissingWasmKernels();
    shareIdentityOnWasm();
    fastSliceOnWasm();
    return { name, version, details: { tfBackend: 'wasm', simd, threads: getThreadsCount(), bridgedKernels, matMulPatch: true } };
  }
  const pkg = name === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
  let mod: { version?: Record<string, string> } & Record<string, unknown>;
  try {
    // A variable specifier keeps bundlers and tsc from resolving an optional package at build time.
    mod = (await import(/* @vite-ignore */ pkg as string)) as typeof mod;
  } catch (e) {
    throw optionalBackendError(name, pkg, version, e);
  }
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new MmsaError('MSA6501', `${pkg} loaded but its 'tensorflow' backend did not initialise`, { hint: `reinstall with \`npm i ${pkg}\`` });
  await tf.ready();
  const nativeVersion = mod.version?.['tfjs-node'];
  return { name, version, details: { tfBackend: 'tensorflow', ...(nativeVersion ? { nativeVersion } : {}) } };
}

/**
 * tfjs-node and tfjs-node-gpu are optional peer dependencies (their install downloads libtensorflow, and the GPU one
 * needs CUDA): say which is missing, the install command pinned to mmsa's tfjs version, and what else it needs.
 */
export function optionalBackendError(name: BackendName, pkg: string, tfVersion: string, e: unknown): MmsaError {
  let missing = false;
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch {
    missing = true;
  }
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  const install = `npm i ${pkg}@${tfVersion}`;
  const needs =
    name === 'tensorflow-gpu'
      ? 'it needs Linux x64 with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1, and downloads libtensorflow at install'
      : 'it downloads libtensorflow at install';
  return new MmsaError(
    'MSA6501',
    missing ? `backend '${name}' needs the optional package ${pkg}, which is not installed` : `backend '${name}': ${pkg} is installed but failed to load (${first})`,
    {
      hint: `${missing ? 'install' : 'reinstall'} it beside mmsa with \`${install}\` (${needs}; docs/api.md, "GPU"), or use --backend wasm`,
      details: { backend: name, package: pkg },
      cause: e,
    },
  );
}

/**
 * The tensor backend's memory and the process's peak RSS. wasm's heap only grows, so its size is its high-water mark;
 * other backends report their live tensors.
 */
export function sampleMemory(): MemoryUsage {
  const wasm = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm : undefined;
  return {
    backendBytes: wasm ? wasm.HEAPU8.buffer.byteLength : tf.memory().numBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
