// Glue between tfjs's wasm backend and mmsa's native kernels: where a tensor lies in the wasm heap, and the kernels
// that replace wasm's BatchMatMul and leading-axes Sum by native calls on that heap. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';

export interface WasmLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

let nativeGemm: NativeKernels | undefined;
let nativeThreads = 1;

/** Route wasm BatchMatMul through the native GEMM (undefined: back to the transposing wrapper). */
export function setNativeMatMul(mod: NativeKernels | undefined, threads = 1): void {
  nativeGemm = mod;
  nativeThreads = threads;
}

/** The kernels set by setNativeMatMul, whether or not the matMul patch currently routes to them. */
export function nativeMatMulKernels(): { mod: NativeKernels; threads: number } | undefined {
  return nativeGemm ? { mod: nativeGemm, threads: nativeThreads } : undefined;
}

export function nativeSumLeading(args: Parameters<tf.KernelFunc>[0], mod: NativeKernels): tf.TensorInfo | undefined {
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
 * A float32 view of a tensor's data where it lies in the wasm heap (no copy), or undefined off wasm. Valid only until
 * the next allocation on the backend (the heap may grow and detach its buffer): pass it straight to a native call.
 */
export function wasmHeapView(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const off = heapIndex(backend, t);
  return off === undefined ? undefined : new Float32Array(backend.wasm.HEAPU8.buffer, off * 4, t.size);
}

export interface WasmHeapBackend extends WasmLike {
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number | null } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/** Where a float32 tensor's data starts in the wasm heap, counted in float32 elements (undefined: not in the heap). */
export function heapIndex(backend: WasmHeapBackend, t: tf.TensorInfo): number | undefined {
  const bytes = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  return bytes == null ? undefined : bytes / 4;
}

/**
 * BatchMatMul as one native GEMM reading the operands where they lie in the wasm heap and writing into a fresh
 * output there. Returns undefined (caller falls back) for what the GEMM does not cover: non-float32, batch shapes
 * that broadcast other than one-against-many.
 */
export function nativeBatchMatMul(args: Parameters<tf.KernelFunc>[0], gemm: NativeKernels, threads: number): tf.TensorInfo | undefined {
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

