// MMSA's feature preprocessing as pure array functions: -inf -> 0, time mean over the padded axis, sequence
// truncation/padding, AlignSubNet's avg_pool, length clamping, BERT token casting. Phase 7 (execute): dataset loading.

/** Replaces every -inf by 0 in place (MMSA data_loader step 7); returns how many were replaced. */
export function negInfToZero(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === -Infinity) {
      a[i] = 0;
      n++;
    }
  }
  return n;
}

/**
 * MMSA's `need_normalized`: mean over the FULL padded time axis (padding zeros included, so the mean is scaled by
 * true_len / padded_len), then NaN -> 0. [N, T, D] -> [N, D]. Accumulates in float64, rounds once to float32.
 */
export function timeMean(a: Float32Array, n: number, t: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  const acc = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    acc.fill(0);
    const base = s * t * d;
    for (let k = 0; k < t; k++) {
      const o = base + k * d;
      for (let j = 0; j < d; j++) acc[j]! += a[o + j]!;
    }
    for (let j = 0; j < d; j++) {
      const m = acc[j]! / t;
      out[s * d + j] = Number.isNaN(m) ? 0 : m;
    }
  }
  return out;
}

/** Truncates or right-zero-pads the time axis: [N, T, D] -> [N, L, D]. Returns the input itself when L === T. */
export function fitSeqLen(a: Float32Array, n: number, t: number, d: number, l: number): Float32Array {
  if (l === t) return a;
  const out = new Float32Array(n * l * d);
  const keep = Math.min(t, l) * d;
  for (let s = 0; s < n; s++) out.set(a.subarray(s * t * d, s * t * d + keep), s * l * d);
  return out;
}

/** The pooling plan of AlignSubNet avg_pool for a raw length R and target length dst (MMSA's `models/subNets/AlignNets.py`). */
export function avgPoolPlan(r: number, dst: number): { pool: number; padLen: number } {
  if (r % dst === 0) return { pool: r / dst, padLen: 0 };
  return { pool: Math.floor(r / dst) + 1, padLen: dst - (r % dst) };
}

/**
 * AlignSubNet `avg_pool` (MMSA's `models/subNets/AlignNets.py`): when R mod dst != 0, right-pad with copies of the LAST frame (the padded
 * frame, not the last true one) to dst * pool frames, pool = floor(R / dst) + 1; then average groups of `pool`
 * consecutive frames. [N, R, D] -> [N, dst, D]; R === dst passes through.
 */
export function avgPoolAlign(a: Float32Array, n: number, r: number, d: number, dst: number): Float32Array {
  if (r === dst) return a;
  const { pool } = avgPoolPlan(r, dst);
  const out = new Float32Array(n * dst * d);
  const acc = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    const base = s * r * d;
    for (let q = 0; q < dst; q++) {
      acc.fill(0);
      for (let p = 0; p < pool; p++) {
        const frame = Math.min(q * pool + p, r - 1);
        const o = base + frame * d;
        for (let j = 0; j < d; j++) acc[j]! += a[o + j]!;
      }
      const o = (s * dst + q) * d;
      for (let j = 0; j < d; j++) out[o + j] = acc[j]! / pool;
    }
  }
  return out;
}

/** Integer lengths, optionally capped at `max` (after truncation) and clamped to >= 1 (packing never sees 0). */
export function prepareLengths(src: ArrayLike<number>, opts: { max?: number | undefined; clamp: boolean }): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let v = Math.trunc(Number(src[i]));
    if (!Number.isFinite(v)) v = 0;
    if (opts.max !== undefined && v > opts.max) v = opts.max;
    if (opts.clamp && v < 1) v = 1;
    out[i] = v;
  }
  return out;
}

/** BERT tokens (ids, mask, segments), stored as float or int in the file, as Int32Array (torch's `.long()` truncates). */
export function toTokens(src: ArrayLike<number>): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.trunc(Number(src[i]));
  return out;
}

/** Counts of -inf, +inf and NaN in a float array. */
export function nonFiniteCounts(a: ArrayLike<number>): { negInf: number; posInf: number; nan: number } {
  let negInf = 0;
  let posInf = 0;
  let nan = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === -Infinity) negInf++;
    else if (v === Infinity) posInf++;
    else if (v !== v) nan++;
  }
  return { negInf, posInf, nan };
}
