// MMSA's missing-modality protocol (data_loader.py `generate_m`, read when a config sets `data_missing`, as TFR-Net's
// does): per modality a fresh numpy RandomState(missing_seed) draws one uniform per padded position, a real position
// is kept when its draw exceeds missing_rate. Pure functions; phase 7 (execute): dataset loading and robustness runs.

import { TorchRng } from '../torch-rng.js';

/** BERT's [UNK] id, which MMSA writes over dropped tokens (`generate_m`: "UNK token: 100"). */
export const UNK_ID = 100;

/**
 * numpy's legacy `np.random.seed(s); np.random.uniform(size=...)`: mt19937 seeded as init_genrand(s) (what
 * RandomState does for an integer seed), doubles from two draws of 27 and 26 bits.
 */
export class NumpyRandomState {
  private readonly mt: TorchRng;
  constructor(seed: number) {
    this.mt = new TorchRng(seed >>> 0);
  }

  randomSample(): number {
    const a = this.mt.nextU32() >>> 5;
    const b = this.mt.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}

/** A modality's masked copy (MMSA's `*_m`), its real-position mask (`*_mask`) and missing mask (`*_missing_mask`). */
export interface MissingResult<T extends Float32Array | Int32Array> {
  masked: T;
  /** [N, T]: 1 at a real position (the BERT mask for tokens; position < length for frames). */
  mask: Float32Array;
  /** [N, T]: 1 at a real position that is kept. */
  missingMask: Float32Array;
}

/**
 * Token rows [N, 3, L] (ids, mask, segments): a dropped real token's id becomes [UNK]; [CLS] and the last real token
 * (numpy's argmin of the mask minus 1, so the last position when the row has no padding) are always kept. Mask and
 * segment rows are unchanged.
 */
export function dropTokens(tokens: Int32Array, n: number, L: number, rate: number, seed: number): MissingResult<Int32Array> {
  const masked = Int32Array.from(tokens);
  const mask = new Float32Array(n * L);
  const missingMask = new Float32Array(n * L);
  const rs = new NumpyRandomState(seed);
  // MMSA draws the whole [N, L] matrix first, then fixes each row's ends: the same draws, row by row.
  for (let i = 0; i < n; i++) {
    const ids = i * 3 * L;
    const m = ids + L;
    let len = 0;
    for (let p = 0; p < L; p++) {
      if (tokens[m + p] === 0) {
        len = p;
        break;
      }
    }
    const last = len === 0 ? L - 1 : len - 1;
    for (let p = 0; p < L; p++) {
      const real = tokens[m + p]!;
      let keep = rs.randomSample() > rate ? real : 0;
      if (p === 0 || p === last) keep = 1;
      mask[i * L + p] = real;
      missingMask[i * L + p] = keep;
      masked[ids + p] = keep * tokens[ids + p]! + UNK_ID * (real - keep);
    }
  }
  return { masked, mask, missingMask };
}

/**
 * Frames [N, T, D]: position k of sample i is real when k < lengths[i] (the file's lengths, unclamped, as MMSA
 * builds the mask from them); a frame is multiplied by its missing mask (a dropped
 * real frame and every padding frame become zeros). Without lengths every frame is real.
 */
export function dropFrames(data: Float32Array, n: number, t: number, d: number, rate: number, seed: number, lengths?: ArrayLike<number>): MissingResult<Float32Array> {
  const masked = new Float32Array(data.length);
  const mask = new Float32Array(n * t);
  const missingMask = new Float32Array(n * t);
  const rs = new NumpyRandomState(seed);
  for (let i = 0; i < n; i++) {
    const len = lengths ? Number(lengths[i]) : t;
    for (let k = 0; k < t; k++) {
      const real = k < len ? 1 : 0;
      const keep = rs.randomSample() > rate ? real : 0;
      mask[i * t + k] = real;
      missingMask[i * t + k] = keep;
      // A product, as MMSA's `missing_mask * modality`: a dropped negative value is -0, a NaN stays NaN.
      for (let j = (i * t + k) * d, e = j + d; j < e; j++) masked[j] = keep * data[j]!;
    }
  }
  return { masked, mask, missingMask };
}
