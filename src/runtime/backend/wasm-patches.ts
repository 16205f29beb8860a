// Patches to tfjs's wasm backend (deps.md 1.3, 1.4): kernels it lacks bridged to cpu, Identity sharing data, matMul
// with transposes (materialised, or the native GEMM), Sum over leading axes natively. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';
import { nativeBatchMatMul, nativeMatMulKernels, nativeSumLeading, type WasmLike } from './native-glue.js';

let bridged: string[] | undefined;
const originalMatMul = new Map<string, tf.KernelConfig>();

type AnyInputs = tf.NamedTensorInfoMap | tf.TensorInfo[];

interface CpuLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/**
 * Register, for wasm, every kernel that cpu has and wasm lacks (UnsortedSegmentSum = gather's gradient, Einsum,
 * Conv2DBackpropFilter, ...): read the inputs back, run the cpu kernel, copy the result into wasm memory.
 */
export function bridgeMissingWasmKernels(): string[] {
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
export function shareIdentityOnWasm(): void {
  wrapWasmKernelOnce('Identity', (original) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
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
        const native = nativeMatMulKernels();
        if (kernelName === 'BatchMatMul' && native) {
          const out = nativeBatchMatMul(args, native.mod, native.threads);
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

/**
 * wasm's Sum transposes its input whenever the reduced axes are not the innermost ones, which is every bias gradient
 * (a sum over the batch rows). With the native kernels active, a sum over leading axes is one pass instead. The
 * wrapper is installed once and falls back to the original kernel for everything else.
 */
export function installNativeSum(): void {
  wrapWasmKernelOnce('Sum', (original) => (args) => (nativeMatMulKernels() && nativeSumLeading(args, nativeMatMulKernels()!.mod)) || original.kernelFunc(args));
}

/** Whether the wasm BatchMatMul kernel currently registered is the transpose-materialising wrapper. */
export function isWasmMatMulPatched(): boolean {
  const original = originalMatMul.get('BatchMatMul');
  const current = tf.getKernel('BatchMatMul', 'wasm');
  return original !== undefined && current !== undefined && current !== original;
}

/** The native kernels and their thread count while they back the wasm backend, else undefined. */
export function activeNativeKernels(): { mod: NativeKernels; threads: number } | undefined {
  return isNativeMatMulActive() ? nativeMatMulKernels() : undefined;
}

/** Whether wasm BatchMatMul currently runs on the native GEMM. */
export function isNativeMatMulActive(): boolean {
  return nativeMatMulKernels() !== undefined && isWasmMatMulPatched() && tf.getBackend() === 'wasm';
}
