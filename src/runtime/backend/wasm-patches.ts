// Patches to tfjs's wasm backend (deps.md 1.3, 1.4): kernels it lacks bridged to cpu, Identity sharing data, matMul
// with transposes (materialised, or the native GEMM), Sum over leading axes natively, Slice/SplitV as run copies.
// Phase 7 (execute).
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

interface SliceBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number | null } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Copies the block begin..begin+size of a row-major x [shape] into a fresh tensor with copyWithin on the heap: the
 * trailing axes a slice takes whole join the contiguous run, so the copies are as few and as long as the layout
 * allows. tfjs's wasm Slice first copies the whole input out of the heap (readSync) and then makes a typed-array view
 * per innermost row: splitting MulT's [16, 116, 300] q/k/v took ~11 ms of CPU, this ~0.35 ms. Byte copies: the same
 * bits.
 */
function copyBlock(backend: SliceBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (size.some((n) => n === 0)) return out;
  const heap = new Int32Array(backend.wasm.HEAPU8.buffer);
  const xi = backend.dataIdMap.get(x.dataId)!.memoryOffset! / 4;
  let oi = backend.dataIdMap.get(out.dataId)!.memoryOffset! / 4;
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= x.shape[i]!, i--) strides[i] = s;
  // c: the outermost axis of the contiguous run (every axis after it is taken whole).
  let c = rank - 1;
  while (c > 0 && size[c] === x.shape[c]) c--;
  const run = size[c]! * strides[c]!;
  let base = xi;
  for (let i = 0; i <= c; i++) base += begin[i]! * strides[i]!;
  const idx = new Array<number>(c).fill(0);
  for (;;) {
    let src = base;
    for (let i = 0; i < c; i++) src += idx[i]! * strides[i]!;
    heap.copyWithin(oi, src, src + run);
    oi += run;
    let i = c - 1;
    while (i >= 0 && ++idx[i]! === size[i]) idx[i--] = 0;
    if (i < 0) return out;
  }
}

/**
 * Slice, SplitV and Unpack of 4-byte tensors on wasm through copyBlock (MulT splits q/k/v and slices conv taps every
 * layer; the recurrent loops unstack their per-step inputs). tfjs's wasm Unpack runs its Slice once per output, each
 * reading the whole input out of the heap: unstacking MFN's [50, 128, 400] steps took ~1-2 s, this a few ms.
 */
export function fastSliceOnWasm(): void {
  const fits = (x: tf.TensorInfo) => (x.dtype === 'float32' || x.dtype === 'int32') && x.shape.length > 0;
  wrapWasmKernelOnce('Slice', (original) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!fits(x)) return original.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [b, sz] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return copyBlock(args.backend as unknown as SliceBackend, x, b, sz);
  });
  wrapWasmKernelOnce('SplitV', (original) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!fits(x)) return original.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const t = copyBlock(args.backend as unknown as SliceBackend, x, [...begin], size);
      begin[ax]! += s;
      return t;
    });
  });
  wrapWasmKernelOnce('Unpack', (original) => (args) => {
    const { value } = args.inputs as { value: tf.TensorInfo };
    if (!fits(value)) return original.kernelFunc(args);
    const rank = value.shape.length;
    const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, value.shape)[0]!;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = [...value.shape];
    size[axis] = 1;
    return Array.from({ length: value.shape[axis]! }, (_, k) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = k;
      const t = copyBlock(args.backend as unknown as SliceBackend, value, begin, size);
      return { dataId: t.dataId, dtype: t.dtype, shape: outShape };
    });
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
