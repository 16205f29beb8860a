// Numeric kernels that reproduce numpy's results bit for bit: half-to-even rounding, `round(x, d)`,
// pairwise summation (float32 and float64), means and Pearson correlation. Phase 7 (execute) helpers.

/** Anything that can be read as a vector of numbers. */
export type NumericVector = Float32Array | Float64Array | readonly number[];

/** numpy `rint`: round to the nearest integer, ties to even (2.5 -> 2, -0.5 -> -0). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // ties go towards +inf here
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * numpy's `round(x, decimals)` for a float64 scalar: multiply by 10**d in float64, round half to even, divide.
 * This is not correctly rounded decimal rounding (Python's `round` on a builtin float is), and the difference shows
 * exactly on the .5 boundaries that MMSA's tables hit, so keep this order of operations.
 */
export function numpyRound(x: number, decimals: number): number {
  if (decimals === 0) return roundHalfEven(x);
  const f = 10 ** decimals; // exact for the small decimals used here
  return roundHalfEven(x * f) / f;
}

/** Copy into a Float32Array; every element is rounded to float32 as numpy's `astype(float32)` would. */
export function toFloat32(values: NumericVector): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

// numpy's pairwise summation (used by every add.reduce over a contiguous axis): below 8 elements a plain loop, up to
// 128 elements eight interleaved accumulators, above that split in halves at a multiple of 8. `fr` applies the
// accumulator's precision after every addition (Math.fround for float32, identity for float64).
function pairwise(a: ArrayLike<number>, lo: number, n: number, fr: (x: number) => number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = fr(res + a[lo + i]!);
    return res;
  }
  if (n <= 128) {
    const r = [a[lo]!, a[lo + 1]!, a[lo + 2]!, a[lo + 3]!, a[lo + 4]!, a[lo + 5]!, a[lo + 6]!, a[lo + 7]!].map(fr);
    let i = 8;
    const end = n - (n % 8);
    for (; i < end; i += 8) {
      for (let j = 0; j < 8; j++) r[j] = fr(r[j]! + a[lo + i + j]!);
    }
    let res = fr(fr(fr(r[0]! + r[1]!) + fr(r[2]! + r[3]!)) + fr(fr(r[4]! + r[5]!) + fr(r[6]! + r[7]!)));
    for (; i < n; i++) res = fr(res + a[lo + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return fr(pairwise(a, lo, n2, fr) + pairwise(a, lo + n2, n - n2, fr));
}

const identity = (x: number): number => x;

/** `np.sum` of a float32 array (float32 accumulator, pairwise). */
export function sumFloat32(a: ArrayLike<number>): number {
  return Math.fround(0 + pairwise(a, 0, a.length, Math.fround));
}

/** `np.sum` of a float64 array (pairwise). */
export function sumFloat64(a: ArrayLike<number>): number {
  return 0 + pairwise(a, 0, a.length, identity);
}

/** `np.mean` of a float32 array: float32 pairwise sum, divided by n, rounded back to float32. NaN when empty. */
export function meanFloat32(a: ArrayLike<number>): number {
  return Math.fround(sumFloat32(a) / a.length);
}

/** `np.mean` of a float64 array. NaN when empty. */
export function meanFloat64(a: ArrayLike<number>): number {
  return sumFloat64(a) / a.length;
}

/** Population variance (ddof 0) as `np.var` computes it: mean, centred squares, pairwise sum, divide. */
export function varianceFloat64(a: ArrayLike<number>): number {
  const m = meanFloat64(a);
  const sq = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - m;
    sq[i] = d * d;
  }
  return meanFloat64(sq);
}

/**
 * `np.corrcoef(x, y)[0, 1]` for two equal-length vectors, in float64 (numpy promotes float32 input to float64).
 * The steps follow numpy's `cov` then `corrcoef`: centre by the pairwise mean, cross products, multiply by 1/(n-1),
 * divide by each standard deviation in turn, clip to [-1, 1]. NaN if either vector is constant (0/0), as numpy.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pearson: lengths differ (${n} vs ${y.length})`);
  const mx = meanFloat64(x);
  const my = meanFloat64(y);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  const inv = 1 / (n - 1);
  const cxx = sxx * inv;
  const cyy = syy * inv;
  const cxy = sxy * inv;
  const r = cxy / Math.sqrt(cxx) / Math.sqrt(cyy);
  if (Number.isNaN(r)) return r;
  return Math.min(1, Math.max(-1, r));
}

/** Index of the first maximum (numpy `argmax`: the first NaN wins, as numpy treats NaN as the maximum). */
export function argmax(row: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  let bestVal = row[offset]!;
  if (Number.isNaN(bestVal)) return 0;
  for (let j = 1; j < length; j++) {
    const v = row[offset + j]!;
    if (Number.isNaN(v)) return j;
    if (v > bestVal) {
      best = j;
      bestVal = v;
    }
  }
  return best;
}
