// Per-dimension feature moments over the valid frames of a split, and `normalize: standard` (z-scores with the
// training split's mean and std, as scikit-learn's StandardScaler). Shared by dataset loading, `mmsa data stats` and
// the robustness noise. Phase 7 (execute): dataset loading.

/** Per-dimension statistics of a [N, T, D] (or [N, D]) float array over its valid frames. */
export interface Moments {
  mean: Float64Array;
  /** Population standard deviation (ddof 0). */
  std: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Finite values counted per dimension. */
  count: Float64Array;
  nan: number;
  posInf: number;
  negInf: number;
  /** Frames counted (valid frames over all samples). */
  frames: number;
}

/** Training-split statistics a modality is standardised with (recorded in the run manifest). */
export interface StandardStats {
  mean: number[];
  std: number[];
}

/**
 * Moments of `a` viewed as [n, t, d] (t = 1 for vectors); with `lengths`, frames at or past a sample's length
 * (padding) are left out. Non-finite values are counted, not summed. Welford's update in float64.
 */
export function featureMoments(a: ArrayLike<number>, n: number, t: number, d: number, lengths?: ArrayLike<number>): Moments {
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  const count = new Float64Array(d);
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let frames = 0;
  for (let s = 0; s < n; s++) {
    const valid = lengths ? Math.max(0, Math.min(t, Math.trunc(Number(lengths[s])))) : t;
    frames += valid;
    for (let k = 0; k < valid; k++) {
      const o = (s * t + k) * d;
      for (let j = 0; j < d; j++) {
        const v = a[o + j]!;
        if (v !== v) {
          nan++;
          continue;
        }
        if (v === Infinity) {
          posInf++;
          continue;
        }
        if (v === -Infinity) {
          negInf++;
          continue;
        }
        const c = ++count[j]!;
        const delta = v - mean[j]!;
        mean[j]! += delta / c;
        m2[j]! += delta * (v - mean[j]!);
        if (v < min[j]!) min[j] = v;
        if (v > max[j]!) max[j] = v;
      }
    }
  }
  const std = Float64Array.from(m2, (v, j) => (count[j]! > 0 ? Math.sqrt(v / count[j]!) : Number.NaN));
  for (let j = 0; j < d; j++) {
    if (count[j] === 0) {
      mean[j] = Number.NaN;
      min[j] = Number.NaN;
      max[j] = Number.NaN;
    }
  }
  return { mean, std, min, max, count, nan, posInf, negInf, frames };
}

/** Mean and std to standardise with; a constant (or empty) dimension keeps scale 1, as StandardScaler does. */
export function standardStats(m: Moments): StandardStats {
  return {
    mean: Array.from(m.mean, (v) => (Number.isFinite(v) ? v : 0)),
    std: Array.from(m.std, (v) => (Number.isFinite(v) && v > 1e-12 ? v : 1)),
  };
}

/** (x - mean) / std in place on the valid frames; padding frames stay as they are (zeros). */
export function applyStandard(a: Float32Array, n: number, t: number, d: number, s: StandardStats, lengths?: ArrayLike<number>): void {
  for (let i = 0; i < n; i++) {
    const valid = lengths ? Math.max(0, Math.min(t, Math.trunc(Number(lengths[i])))) : t;
    for (let k = 0; k < valid; k++) {
      const o = (i * t + k) * d;
      for (let j = 0; j < d; j++) a[o + j] = (a[o + j]! - s.mean[j]!) / s.std[j]!;
    }
  }
}

/**
 * Whether features look unnormalised: some dimension far from zero mean or unit scale, or scales spread over orders
 * of magnitude. MMSA's maintainers note that such features keep models from converging; the thresholds are loose on
 * purpose (only clearly raw features are flagged).
 */
export function looksUnnormalised(m: Moments): { flagged: boolean; why: string } {
  const ds: number[] = [];
  for (let j = 0; j < m.mean.length; j++) if (m.count[j]! > 0 && m.std[j]! > 1e-12) ds.push(j);
  if (ds.length === 0) return { flagged: false, why: '' };
  const maxAbsMean = Math.max(...ds.map((j) => Math.abs(m.mean[j]!)));
  const stds = ds.map((j) => m.std[j]!);
  const hi = Math.max(...stds);
  const lo = Math.min(...stds);
  const reasons: string[] = [];
  if (maxAbsMean > 5) reasons.push(`a dimension has mean ${fmt(maxAbsMean)}`);
  if (hi > 10) reasons.push(`a dimension has std ${fmt(hi)}`);
  if (hi / lo > 100) reasons.push(`stds range over ${fmt(hi / lo)}x`);
  return { flagged: reasons.length > 0, why: reasons.join(', ') };
}

function fmt(x: number): string {
  return Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(2) : x.toFixed(2);
}
