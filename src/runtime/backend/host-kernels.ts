// Native kernels that read tensors in the wasm heap and update state held outside it (optimizer moments, gradient
// sums), so the 4 GiB heap holds only weights, activations and the gradients of one step. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import { heapIndex, type WasmHeapBackend } from './native-glue.js';
import { activeNativeKernels } from './wasm-patches.js';

export interface AdamScalars {
  lr: number;
  b1: number;
  b2: number;
  eps: number;
  weightDecay: number;
  stepSize: number;
  bc2Sqrt: number;
  decoupled: boolean;
}

function heapOffsets(...ts: tf.Tensor[]): { backend: WasmHeapBackend; offs: number[] } | undefined {
  if (ts.some((t) => t.dtype !== 'float32')) return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const offs = ts.map((t) => heapIndex(backend, t));
  return offs.some((o) => o === undefined) ? undefined : { backend, offs: offs as number[] };
}

/**
 * torch Adam/AdamW for one float32 parameter in one native pass: p and its gradient read in the heap, the moments
 * m and v (outside the heap) updated in place, the new parameter written to a fresh tensor. Undefined when the native
 * kernels are not active or an operand is not a float32 wasm tensor (the caller then runs the same maths in JS).
 */
export function nativeAdamHostStep(p: tf.Tensor, g: tf.Tensor, m: Float32Array, v: Float32Array, h: AdamScalars): tf.Tensor | undefined {
  const k = activeNativeKernels();
  if (!k || g.size !== p.size || m.length !== p.size || v.length !== p.size) return undefined;
  const at = heapOffsets(p, g);
  if (!at) return undefined;
  const out = at.backend.makeOutput([...p.shape], 'float32');
  // The heap may have grown while the output was allocated: take its buffer afterwards.
  k.mod.adamHost(at.backend.wasm.HEAPU8.buffer, p.size, at.offs[0]!, at.offs[1]!, heapIndex(at.backend, out)!, m, v,
    h.lr, h.b1, h.b2, h.eps, h.weightDecay, h.stepSize, h.bc2Sqrt, h.decoupled);
  return (tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor }).makeTensorFromTensorInfo(out);
}

/** dst = g (first) or dst += g, natively from the heap; false when the kernels are not active or g is not there. */
export function nativeAccumulate(g: tf.Tensor, dst: Float32Array, first: boolean): boolean {
  const k = activeNativeKernels();
  if (!k || dst.length !== g.size) return false;
  const at = heapOffsets(g);
  if (!at) return false;
  k.mod.accumulate(at.backend.wasm.HEAPU8.buffer, at.offs[0]!, g.size, dst, first);
  return true;
}
