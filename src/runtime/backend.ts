// Chooses and prepares the TensorFlow.js backend (wasm by default) and patches wasm's known gaps (deps.md 1.3, 1.4).
// Phase 7 (execute); loaded lazily by the runtime so the compiler never pulls in tfjs.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { MmsaError } from '../errors.js';

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
  };
}

export interface SetupBackendOptions {
  /** Default true. Off only for benchmarks that measure the unpatched behaviour. */
  matMulPatch?: boolean;
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
    setWasmMatMulPatch(opts.matMulPatch ?? true);
    info.details.matMulPatch = opts.matMulPatch ?? true;
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
 * and every matMul gradient transposes. The wrapper transposes explicitly (fast wasm Transpose kernel) first.
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
