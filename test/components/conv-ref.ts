// Plain-JS (float64) references for the CNN encoder tests: PyTorch's Conv1d on one T x D row, 'same' padding as
// torch's padding='same' (left = total // 2), and the shared helpers that lay out weights. Test helper.

import type { Mat } from '../runtime/nn/ref.js';

/** w as [out][in][k] from the flat PyTorch layout. */
export function convWeight(flat: ArrayLike<number>, out: number, inSize: number, k: number): number[][][] {
  return Array.from({ length: out }, (_, o) => Array.from({ length: inSize }, (_, i) => Array.from({ length: k }, (_, j) => flat[(o * inSize + i) * k + j]!)));
}

export function conv1dRef(x: Mat, w: number[][][], b: ArrayLike<number>, opts: { dilation?: number; padding: 'same' | 'valid' }): Mat {
  const d = opts.dilation ?? 1;
  const K = w[0]![0]!.length;
  const span = d * (K - 1);
  const left = opts.padding === 'same' ? Math.floor(span / 2) : 0;
  const T = x.length;
  const steps = opts.padding === 'same' ? T : T - span;
  const at = (t: number, i: number) => (t >= 0 && t < T ? x[t]![i]! : 0);
  return Array.from({ length: steps }, (_, t) =>
    w.map((wo, o) => {
      let s = b[o]!;
      wo.forEach((wi, i) => wi.forEach((v, j) => (s += v * at(t - left + j * d, i))));
      return s;
    }),
  );
}

export const meanRows = (m: Mat): number[] => m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0) / m.length);
export const maxRows = (m: Mat): number[] => m[0]!.map((_, j) => Math.max(...m.map((r) => r[j]!)));
export const reluM = (m: Mat): Mat => m.map((r) => r.map((v) => Math.max(0, v)));
export const addM = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
