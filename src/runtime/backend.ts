// Chooses and prepares the TensorFlow.js backend (wasm by default) and patches wasm's known gaps (deps.md 1.3, 1.4).
// Phase 7 (execute); loaded lazily by the runtime so the compiler never pulls in tfjs.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { MmsaError } from '../errors.js';
import { nativeKernelsFor, resolveNativeMode, resolveThreads, type NativeKernels, type NativeMode } from './native.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';

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
let bridged: string[] | undefined;
const originalMatMul = new Map<string, tf.KernelConfig>();

/**
 * Select and initialise a backend. Idempotent: repeated calls return the same info (the matMul patch
 * option may be toggled between calls, which only benchmarks do).
 */
export async function setupBackend(name: BackendName = 'wasm', opts: SetupBackendOptions = {}): Promise<BackendInfo> {
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
  if (name === 'cpu' || name === 'wasm') {
    const ok = await tf.setBackend(name);
    if (!ok) throw new MmsaError('MSA6502', `tfjs backend '${name}' failed to initialise`);
    await tf.ready();
    if (name === 'cpu') return { name, version, details: { tfBackend: 'cpu' } };
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const bridgedKernels = bridgeMissingWasmKernels();
    shareIdentityOnWasm();
    return { name, version, details: { tfBackend: 'wasm', simd, threads: getThreadsCount(), bridgedKernels, matMulPatch: true } };
  }
  const pkg = name === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
  let mod: { version?: Record<string, string> } & Record<string, unknown>;
  try {
    // A variable specifier keeps bundlers and tsc from resolving an optional package at build time.
    mod = (await import(/* @vite-ignore */ pkg as string)) as typeof mod;
  } catch (e) {
    throw new MmsaError('MSA6501', `backend '${name}' needs the optional package ${pkg}, which is not installed or failed to load (${(e as Error).message.split('\n')[0]})`, {
      hint: `install it with \`npm i ${pkg}\` (it downloads libtensorflow at install time), or use --backend wasm`,
      details: { backend: name, package: pkg },
      cause: e,
    });
  }
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new MmsaError('MSA6501', `${pkg} loaded but its 'tensorflow' backend did not initialise`, { hint: `reinstall with \`npm i ${pkg}\`` });
  await tf.ready();
  const nativeVersion = mod.version?.['tfjs-node'];
  return { name, version, details: { tfBackend: 'tensorflow', ...(nativeVersion ? { nativeVersion } : {}) } };
}

type AnyInputs = tf.NamedTensorInfoMap | tf.TensorInfo[];

/**
 * Register, for wasm, every kernel that cpu has and wasm lacks (UnsortedSegmentSum = gather's gradient, Einsum,
 * Conv2DBackpropFilter, ...): read the inputs back, run the cpu kernel, copy the result into wasm memory.
 */
function bridgeMissingWasmKernels(): string[] {
  if (bridged) return bridged;
  const have = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  const missing = tf.getKernelsForBackend('cpu').filter((k) => !have.has(k.kernelName));
  for (const cpuKernel of missing) {
    tf.registerKernel({
      kernelName: cpuKernel.kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const wasm = backend as unknown as WasmLike;
        const cpu = tf.engine().findBackend('cpu') as unknown as CpuLike;
        const toCpu = (t: tf.TensorInfo | undefined): tf.TensorInfo => cpu.makeTensorInfo(t!.shape, t!.dtype, wasm.readSync(t!.dataId));
        const raw = inputs as unknown as AnyInputs;
        const cpuInputs: AnyInputs = Array.isArray(raw)
          ? raw.map(toCpu)
          : Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, toCpu(v)]));
        const inList = Array.isArray(cpuInputs) ? cpuInputs : Object.values(cpuInputs);
        try {
          const out = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu as unknown as tf.KernelBackend, attrs });
          const outs = Array.isArray(out) ? out : [out];
          const result = outs.map((o) => {
            const r = wasm.makeOutput(o.shape, o.dtype, undefined, cpu.readSync(o.dataId));
            cpu.disposeData(o.dataId);
            return r;
          });
          return Array.isArray(out) ? result : result[0]!;
        } finally {
          for (const t of inList) if (t) cpu.disposeData(t.dataId);
        }
      },
    });
  }
  bridged = missing.map((k) => k.kernelName);
  return bridged;
}

const wrappedOnce = new Set<string>();

/** Replace a wasm kernel by `wrap(original)`, once per process (later calls do nothing). */
function wrapWasmKernelOnce(kernelName: string, wrap: (original: tf.KernelConfig) => tf.KernelFunc): void {
  if (wrappedOnce.has(kernelName)) return;
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) return;
  wrappedOnce.add(kernelName);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: wrap(original) });
}

/**
 * tfjs saves every tensor a gradient needs through engine.clone, which runs the Identity kernel; wasm's copies the
 * data (cpu's shares it), so a backward pass over TFN copies its 36 MB fusion weight several times per step. Sharing
 * is safe on wasm: no kernel writes into its inputs (Reshape shares the same way), variables swap data on assign.
 */
function shareIdentityOnWasm(): void {
  wrapWasmKernelOnce('Identity', (original) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
}

interface WasmLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}
interface CpuLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/**
 * wasm only hands matMul to XNNPACK when neither operand is transposed; otherwise a naive loop runs 10-40x slower,
 * and every matMul gradient transposes. The wrapper transposes explicitly (fast wasm Transpose kernel) first, or,
 * when mmsa's native kernels are loaded, runs BatchMatMul as one native GEMM on the wasm heap (any transposes, no
 * copies; see native/src/sgemm.h).
 */
export function setWasmMatMulPatch(enabled: boolean): void {
  for (const kernelName of ['BatchMatMul', '_FusedMatMul']) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (!current) continue;
    if (!originalMatMul.has(kernelName)) originalMatMul.set(kernelName, current);
    const original = originalMatMul.get(kernelName)!;
    const isPatched = current !== original;
    if (enabled === isPatched) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    if (!enabled) {
      tf.registerKernel(original);
      continue;
    }
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: (args) => {
        if (kernelName === 'BatchMatMul' && nativeGemm) {
          const out = nativeBatchMatMul(args, nativeGemm, nativeThreads);
          if (out) return out;
        }
        const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
        if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
        const wasm = args.backend as unknown as WasmLike;
        const transposeKernel = tf.getKernel('Transpose', 'wasm')!;
        const inputs = { ...(args.inputs as tf.NamedTensorInfoMap) };
        const temps: tf.TensorInfo[] = [];
        const materialise = (key: 'a' | 'b') => {
          const t = inputs[key] as tf.TensorInfo;
          const perm = t.shape.map((_: number, i: number) => i);
          const n = perm.length;
          perm[n - 1] = n - 2; // swap the two innermost axes
          perm[n - 2] = n - 1;
          const out = transposeKernel.kernelFunc({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
          temps.push(out);
          inputs[key] = out;
        };
        if (attrs.transposeA) materialise('a');
        if (attrs.transposeB) materialise('b');
        try {
          return original.kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
        } finally {
          for (const t of temps) wasm.disposeData(t.dataId);
        }
      },
    });
  }
}

let nativeGemm: NativeKernels | undefined;
let nativeThreads = 1;

/** Route wasm BatchMatMul through the native GEMM (undefined: back to the transposing wrapper). */
export function setNativeMatMul(mod: NativeKernels | undefined, threads = 1): void {
  nativeGemm = mod;
  nativeThreads = threads;
}

/** The native kernels and their thread count while they back the wasm backend, else undefined. */
export function activeNativeKernels(): { mod: NativeKernels; threads: number } | undefined {
  return isNativeMatMulActive() ? { mod: nativeGemm!, threads: nativeThreads } : undefined;
}

/** Whether wasm BatchMatMul currently runs on the native GEMM. */
export function isNativeMatMulActive(): boolean {
  return nativeGemm !== undefined && isWasmMatMulPatched() && tf.getBackend() === 'wasm';
}

/**
 * wasm's Sum transposes its input whenever the reduced axes are not the innermost ones, which is every bias gradient
 * (a sum over the batch rows). With the native kernels active, a sum over leading axes is one pass instead. The
 * wrapper is installed once and falls back to the original kernel for everything else.
 */
function installNativeSum(): void {
  wrapWasmKernelOnce('Sum', (original) => (args) => (nativeGemm && nativeSumLeading(args, nativeGemm)) || original.kernelFunc(args));
}

function nativeSumLeading(args: Parameters<tf.KernelFunc>[0], mod: NativeKernels): tf.TensorInfo | undefined {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  if (x.dtype !== 'float32' || x.shape.length < 2) return undefined;
  const rank = x.shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return undefined;
  const backend = args.backend as unknown as WasmHeapBackend;
  const R = x.shape.slice(0, axes.length).reduce((p, q) => p * q, 1);
  const rest = x.shape.slice(axes.length);
  const C = rest.reduce((p, q) => p * q, 1);
  const offIn = heapIndex(backend, x);
  if (offIn === undefined || C === 0) return undefined;
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
  mod.sumRows(backend.wasm.HEAPU8.buffer, R, C, offIn, heapIndex(backend, out)!);
  return out;
}

/**
 * torch Adam/AdamW for one float32 parameter as one native pass over the wasm heap, into three fresh tensors
 * (new p, m, v); undefined when the native kernels are not active or an operand is not a float32 wasm tensor.
 */
export function nativeAdamStep(
  p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor,
  h: { lr: number; b1: number; b2: number; eps: number; weightDecay: number; stepSize: number; bc2Sqrt: number; decoupled: boolean },
): [tf.Tensor, tf.Tensor, tf.Tensor] | undefined {
  const k = activeNativeKernels();
  if (!k) return undefined;
  if ([p, g, m, v].some((t) => t.dtype !== 'float32' || t.size !== p.size)) return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const offs = [p, g, m, v].map((t) => heapIndex(backend, t));
  if (offs.some((o) => o === undefined)) return undefined;
  const outs = [0, 1, 2].map(() => backend.makeOutput([...p.shape], 'float32'));
  const outOffs = outs.map((o) => heapIndex(backend, o)!);
  k.mod.adam(backend.wasm.HEAPU8.buffer, p.size, offs[0]!, offs[1]!, offs[2]!, offs[3]!, outOffs[0]!, outOffs[1]!, outOffs[2]!,
    h.lr, h.b1, h.b2, h.eps, h.weightDecay, h.stepSize, h.bc2Sqrt, h.decoupled);
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor };
  return outs.map((o) => engine.makeTensorFromTensorInfo(o)) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * Attention weights in one native pass: p = softmax(x + mask) over the last axis (mask rows repeat every maskRows
 * rows), and y = p * drop when a dropout mask is given. Undefined when the native kernels are not active or an
 * operand is not a float32 wasm tensor (the caller then uses tensor ops).
 */
export function nativeSoftmaxRows(x: tf.Tensor, mask: tf.Tensor | undefined, drop: tf.Tensor | undefined): { p: tf.Tensor; y: tf.Tensor } | undefined {
  const k = activeNativeKernels();
  if (!k || typeof k.mod.softmaxRows !== 'function') return undefined;
  const C = x.shape[x.shape.length - 1]!;
  const R = x.size / C;
  if ([x, mask, drop].some((t) => t && t.dtype !== 'float32') || (drop && drop.size !== x.size) || (mask && mask.size % C !== 0)) return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const offs = [x, mask, drop].map((t) => (t ? heapIndex(backend, t) : -1));
  if (offs.some((o) => o === undefined)) return undefined;
  const p = backend.makeOutput([...x.shape], 'float32');
  const y = drop ? backend.makeOutput([...x.shape], 'float32') : undefined;
  k.mod.softmaxRows(backend.wasm.HEAPU8.buffer, R, C, offs[0]!, offs[1]!, mask ? mask.size / C : 1, offs[2]!, heapIndex(backend, p)!, y ? heapIndex(backend, y)! : -1);
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor };
  const pt = engine.makeTensorFromTensorInfo(p);
  return { p: pt, y: y ? engine.makeTensorFromTensorInfo(y) : pt };
}

/** The gradient of nativeSoftmaxRows' y with respect to x, from its p and dy (undefined: use tensor ops). */
export function nativeSoftmaxRowsBackward(p: tf.Tensor, dy: tf.Tensor, drop: tf.Tensor | undefined): tf.Tensor | undefined {
  const k = activeNativeKernels();
  if (!k || typeof k.mod.softmaxRowsBackward !== 'function') return undefined;
  if ([p, dy, drop].some((t) => t && (t.dtype !== 'float32' || t.size !== p.size))) return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const offs = [p, dy, drop].map((t) => (t ? heapIndex(backend, t) : -1));
  if (offs.some((o) => o === undefined)) return undefined;
  const C = p.shape[p.shape.length - 1]!;
  const dx = backend.makeOutput([...p.shape], 'float32');
  k.mod.softmaxRowsBackward(backend.wasm.HEAPU8.buffer, p.size / C, C, offs[0]!, offs[1]!, offs[2]!, heapIndex(backend, dx)!);
  return (tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor }).makeTensorFromTensorInfo(dx);
}

/**
 * A float32 view of a tensor's data where it lies in the wasm heap (no copy), or undefined off wasm. Valid only until
 * the next allocation on the backend (the heap may grow and detach its buffer): pass it straight to a native call.
 */
export function wasmHeapView(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const off = heapIndex(backend, t);
  return off === undefined ? undefined : new Float32Array(backend.wasm.HEAPU8.buffer, off * 4, t.size);
}

interface WasmHeapBackend extends WasmLike {
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number | null } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/** Where a float32 tensor's data starts in the wasm heap, counted in float32 elements (undefined: not in the heap). */
function heapIndex(backend: WasmHeapBackend, t: tf.TensorInfo): number | undefined {
  const bytes = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  return bytes == null ? undefined : bytes / 4;
}

/**
 * BatchMatMul as one native GEMM reading the operands where they lie in the wasm heap and writing into a fresh
 * output there. Returns undefined (caller falls back) for what the GEMM does not cover: non-float32, batch shapes
 * that broadcast other than one-against-many.
 */
function nativeBatchMatMul(args: Parameters<tf.KernelFunc>[0], gemm: NativeKernels, threads: number): tf.TensorInfo | undefined {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const backend = args.backend as unknown as WasmHeapBackend;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const M = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== Kb) return undefined; // the original kernel reports the mismatch
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (outer.reduce((x, y) => x * y, 1) !== batch) return undefined;
  const offA = heapIndex(backend, a);
  const offB = heapIndex(backend, b);
  if (offA === undefined || offB === undefined) return undefined;
  const out = backend.makeOutput([...outer, M, N], 'float32');
  if (batch * M * N === 0) return out;
  // The heap may have grown (and its buffer been replaced) while the output was allocated: read it afterwards.
  gemm.sgemm(backend.wasm.HEAPU8.buffer, batch, M, N, K, transposeA ? 1 : 0, transposeB ? 1 : 0,
    offA, batchA === 1 ? 0 : M * K, offB, batchB === 1 ? 0 : K * N, heapIndex(backend, out)!, M * N, threads);
  return out;
}

/** The backend tfjs is currently using (for run metadata). */
export function currentBackend(): string {
  return tf.getBackend();
}

/** Whether the wasm BatchMatMul kernel currently registered is the transpose-materialising wrapper. */
export function isWasmMatMulPatched(): boolean {
  const original = originalMatMul.get('BatchMatMul');
  const current = tf.getKernel('BatchMatMul', 'wasm');
  return original !== undefined && current !== undefined && current !== original;
}
