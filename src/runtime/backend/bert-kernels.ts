// The native fused kernels of a BERT layer (native/src/bert.h) as tensor functions on the wasm heap: inputs read where
// they lie, outputs in fresh tensors, dropout masks passed from JS memory. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';
import { heapIndex, type WasmHeapBackend } from './native-glue.js';
import { activeNativeKernels } from './wasm-patches.js';

export interface BertNativeKernels {
  /** pre = x + bias, act = gelu(pre) (BERT's exact erf form). */
  biasGelu(x: tf.Tensor, bias: tf.Tensor): { pre: tf.Tensor; act: tf.Tensor };
  geluBackward(dact: tf.Tensor, pre: tf.Tensor): tf.Tensor;
  /** r = (a + bias) * mask + residual, LayerNorm(r) with gamma/beta: y, normalised xhat, per-row rstd [N, 1]. */
  layerNormForward(a: tf.Tensor, bias: tf.Tensor, mask: Float32Array | undefined, residual: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: tf.Tensor; xhat: tf.Tensor; rstd: tf.Tensor };
  /** A plain LayerNorm of x over its last axis (no bias, mask or residual): y, xhat and rstd as layerNormForward. */
  layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: tf.Tensor; xhat: tf.Tensor; rstd: tf.Tensor };
  /** Gradients towards r (dx), towards a + bias after the mask (dmasked), gamma, beta and the bias. */
  layerNormBackward(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor, mask: Float32Array | undefined): { dx: tf.Tensor; dmasked: tf.Tensor; dgamma: tf.Tensor; dbeta: tf.Tensor; dbias: tf.Tensor };
  /** p = softmax(s * scale + addMask[b]) over the last axis of s [B*heads, L, L]; dropped = p * mask. */
  softmaxForward(s: tf.Tensor, addMask: tf.Tensor, heads: number, scale: number, mask: Float32Array | undefined): { p: tf.Tensor; dropped: tf.Tensor };
  /**
   * p = softmax(s * scale + addMask[row % Tq]) over the last axis of s [R, Tq, Tk] (MulT's per-query mask [Tq, Tk],
   * or none); dropped = p * mask.
   */
  softmaxForwardRows(s: tf.Tensor, addMask: tf.Tensor | undefined, scale: number, mask: Float32Array | undefined): { p: tf.Tensor; dropped: tf.Tensor };
  softmaxBackward(p: tf.Tensor, ddropped: tf.Tensor, mask: Float32Array | undefined, scale: number): tf.Tensor;
  mulMask(x: tf.Tensor, mask: Float32Array): tf.Tensor;
  /** The dense [V, H] gradient of a row lookup of `ids` (int32) with output gradient dy [n, H]. */
  embeddingGrad(dy: tf.Tensor, ids: tf.Tensor, V: number): tf.Tensor;
}

function offsets(backend: WasmHeapBackend, ts: tf.Tensor[]): number[] | undefined {
  const out: number[] = [];
  for (const t of ts) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') return undefined;
    const o = heapIndex(backend, t);
    if (o === undefined) return undefined;
    out.push(o);
  }
  return out;
}

function kernels(mod: NativeKernels, threads: number): BertNativeKernels {
  const backend = (): WasmHeapBackend => tf.backend() as unknown as WasmHeapBackend;
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor };
  /** Fresh outputs and every operand's offset, read after the allocations (the heap may grow and move). */
  const run = (inputs: tf.Tensor[], shapes: number[][], call: (heap: ArrayBufferLike, ins: number[], outs: number[]) => void): tf.Tensor[] => {
    const be = backend();
    const infos = shapes.map((s) => be.makeOutput(s, 'float32'));
    const ins = offsets(be, inputs);
    if (!ins) throw new Error('bert kernels: an operand is not a float32 / int32 tensor in the wasm heap');
    call(be.wasm.HEAPU8.buffer, ins, infos.map((i) => heapIndex(be, i)!));
    return infos.map((i) => engine.makeTensorFromTensorInfo(i));
  };
  const rowsOf = (t: tf.Tensor) => t.size / t.shape[t.shape.length - 1]!;
  return {
    biasGelu(x, bias) {
      const C = x.shape[x.shape.length - 1]!;
      const [pre, act] = run([x, bias], [[...x.shape], [...x.shape]], (h, i, o) => mod.biasGelu(h, rowsOf(x), C, i[0]!, i[1]!, o[0]!, o[1]!, threads));
      return { pre: pre!, act: act! };
    },
    geluBackward(dact, pre) {
      return run([dact, pre], [[...pre.shape]], (h, i, o) => mod.geluBackward(h, pre.size, i[0]!, i[1]!, o[0]!, threads))[0]!;
    },
    layerNormForward(a, bias, mask, residual, gamma, beta, eps) {
      const C = a.shape[a.shape.length - 1]!;
      const N = rowsOf(a);
      const [y, xhat, rstd] = run([a, bias, residual, gamma, beta], [[...a.shape], [...a.shape], [N, 1]], (h, i, o) =>
        mod.layerNormForward(h, N, C, i[0]!, i[1]!, i[2]!, i[3]!, i[4]!, o[0]!, o[1]!, o[2]!, threads, mask ?? null, eps));
      return { y: y!, xhat: xhat!, rstd: rstd! };
    },
    layerNorm(x, gamma, beta, eps) {
      const C = x.shape[x.shape.length - 1]!;
      const N = rowsOf(x);
      const [y, xhat, rstd] = run([x, gamma, beta], [[...x.shape], [...x.shape], [N, 1]], (h, i, o) =>
        mod.layerNormForward(h, N, C, i[0]!, -1, -1, i[1]!, i[2]!, o[0]!, o[1]!, o[2]!, threads, null, eps));
      return { y: y!, xhat: xhat!, rstd: rstd! };
    },
    layerNormBackward(dy, xhat, rstd, gamma, mask) {
      const C = dy.shape[dy.shape.length - 1]!;
      const N = rowsOf(dy);
      const [dx, dmasked, dgamma, dbeta, dbias] = run([dy, xhat, rstd, gamma], [[...dy.shape], [...dy.shape], [C], [C], [C]], (h, i, o) =>
        mod.layerNormBackward(h, N, C, i[0]!, i[1]!, i[2]!, i[3]!, o[0]!, o[1]!, o[2]!, o[3]!, o[4]!, threads, mask ?? null));
      return { dx: dx!, dmasked: dmasked!, dgamma: dgamma!, dbeta: dbeta!, dbias: dbias! };
    },
    softmaxForward(s, addMask, heads, scale, mask) {
      const L = s.shape[s.shape.length - 1]!;
      const B = s.size / (heads * L * L);
      const [p, dropped] = run([s, addMask], [[...s.shape], [...s.shape]], (h, i, o) => mod.softmaxForward(h, B, heads, L, i[0]!, i[1]!, o[0]!, o[1]!, threads, mask ?? null, scale));
      return { p: p!, dropped: dropped! };
    },
    softmaxForwardRows(s, addMask, scale, mask) {
      const [Tq, Tk] = s.shape.slice(-2) as [number, number];
      const [p, dropped] = run(addMask ? [s, addMask] : [s], [[...s.shape], [...s.shape]], (h, i, o) =>
        mod.softmaxForwardRows(h, s.size / Tk, Tq, Tk, i[0]!, addMask ? i[1]! : -1, o[0]!, o[1]!, threads, mask ?? null, scale));
      return { p: p!, dropped: dropped! };
    },
    softmaxBackward(p, ddropped, mask, scale) {
      const L = p.shape[p.shape.length - 1]!;
      return run([p, ddropped], [[...p.shape]], (h, i, o) => mod.softmaxBackward(h, p.size / L, L, i[0]!, i[1]!, o[0]!, threads, mask ?? null, scale))[0]!;
    },
    mulMask(x, mask) {
      return run([x], [[...x.shape]], (h, i, o) => mod.mulMask(h, x.size, i[0]!, o[0]!, threads, mask))[0]!;
    },
    embeddingGrad(dy, ids, V) {
      const H = dy.shape[dy.shape.length - 1]!;
      return run([ids, dy], [[V, H]], (h, i, o) => mod.embeddingGrad(h, ids.size, H, V, i[0]!, i[1]!, o[0]!))[0]!;
    },
  };
}

let cache: { mod: NativeKernels; threads: number; k: BertNativeKernels } | undefined;

/** The BERT layer's native kernels while mmsa's native kernels back the wasm backend, else undefined. */
export function nativeBertKernels(): BertNativeKernels | undefined {
  const a = activeNativeKernels();
  if (!a) return undefined;
  if (!cache || cache.mod !== a.mod || cache.threads !== a.threads) cache = { ...a, k: kernels(a.mod, a.threads) };
  return cache.k;
}
