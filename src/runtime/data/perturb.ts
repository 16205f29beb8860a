// Robustness perturbations of a loaded split: modalities partly missing (TFR-Net's masking protocol, with numpy's
// random stream so a seed gives MMSA's own masks) or corrupted by Gaussian noise relative to each feature's std.
// Pure functions on SplitData, deterministic for a seed. Phase 7 (execute): scoring on altered inputs.

import { MmsaError } from '../../errors.js';
import { deriveSeed, Rng } from '../random.js';
import { dropTokens as dropTokenRows, NumpyRandomState } from './missing.js';
import { featureMoments } from './standardize.js';
import type { ArrayData, SplitData } from './types.js';

export type PerturbKind = 'missing' | 'noise';

export interface Perturbation {
  kind: PerturbKind;
  modality: string;
  /** missing: the probability a frame (token, or a whole vector) is dropped; noise: noise std over feature std. */
  rate: number;
}

function isTokens(f: ArrayData): boolean {
  return f.data instanceof Int32Array && f.shape.length === 3 && f.shape[1] === 3;
}

function checkModality(split: SplitData, p: Perturbation): ArrayData {
  const f = split.features[p.modality];
  if (!f) {
    throw new MmsaError('MSA6714', `--${p.kind} ${p.modality}=${p.rate}: the run has no modality '${p.modality}'`, {
      hint: `its modalities: ${Object.keys(split.features).join(', ')}`,
      details: { modality: p.modality },
    });
  }
  if (p.kind === 'noise' && isTokens(f)) {
    throw new MmsaError('MSA6715', `--noise ${p.modality}=${p.rate}: '${p.modality}' is BERT token ids, which cannot take Gaussian noise`, {
      hint: `drop tokens instead: --missing ${p.modality}=${p.rate} (dropped tokens become [UNK], as TFR-Net does)`,
      details: { modality: p.modality },
    });
  }
  if (!(p.rate >= 0) || (p.kind === 'missing' && p.rate > 1)) {
    throw new MmsaError('MSA6714', `--${p.kind} ${p.modality}=${p.rate}: the rate must be ${p.kind === 'missing' ? 'between 0 and 1' : 'at least 0'}`, { details: { modality: p.modality } });
  }
  return f;
}

/** TFR-Net's token masking (`missing.ts`); the attention mask is unchanged. */
function dropTokens(f: ArrayData, rate: number, seed: number): ArrayData {
  const [n, , L] = f.shape as [number, number, number];
  return { data: dropTokenRows(f.data as Int32Array, n, L, rate, seed).masked, shape: [...f.shape] };
}

/** TFR-Net's frame masking: a real frame (before the sample's length) is zeroed when its uniform draw is <= rate. */
function dropFrames(f: ArrayData, rate: number, seed: number, lengths: Int32Array | undefined): ArrayData {
  const data = Float32Array.from(f.data);
  const rs = new NumpyRandomState(seed);
  if (f.shape.length === 2) {
    // A time-averaged (vector) modality has no frames: the whole vector of a sample is missing.
    const [n, d] = f.shape as [number, number];
    for (let i = 0; i < n; i++) if (!(rs.randomSample() > rate)) data.fill(0, i * d, (i + 1) * d);
    return { data, shape: [...f.shape] };
  }
  const [n, t, d] = f.shape as [number, number, number];
  for (let i = 0; i < n; i++) {
    const len = lengths ? lengths[i]! : t;
    for (let k = 0; k < t; k++) {
      const u = rs.randomSample();
      if (k < len && !(u > rate)) data.fill(0, (i * t + k) * d, (i * t + k + 1) * d);
    }
  }
  return { data, shape: [...f.shape] };
}

/** x + rate * std_j * N(0, 1) on the real frames, std_j of dimension j over the split's real frames. */
function addNoise(f: ArrayData, rate: number, seed: number, lengths: Int32Array | undefined): ArrayData {
  const data = Float32Array.from(f.data);
  const seq = f.shape.length === 3;
  const n = f.shape[0]!;
  const t = seq ? f.shape[1]! : 1;
  const d = f.shape[f.shape.length - 1]!;
  const lens = seq ? lengths : undefined;
  const m = featureMoments(data, n, t, d, lens);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const valid = lens ? Math.min(t, lens[i]!) : t;
    for (let k = 0; k < valid; k++) {
      const o = (i * t + k) * d;
      for (let j = 0; j < d; j++) {
        const s = m.std[j]!;
        if (s > 0) data[o + j] = data[o + j]! + rate * s * rng.normal();
      }
    }
  }
  return { data, shape: [...f.shape] };
}

/**
 * The split with the perturbations applied (noise first, then missing frames, so dropped frames stay zero). Every
 * modality's missing mask is drawn from a fresh numpy RandomState(seed), as TFR-Net seeds each modality with its
 * missing_seed (MMSA's default 1111 for all three): on the same padded shape the masks are MMSA's. Noise draws come
 * from mmsa's own generator, seeded from (seed, modality). The input split is not modified.
 */
export function perturbSplit(split: SplitData, perturbations: readonly Perturbation[], seed: number): SplitData {
  const features = { ...split.features };
  for (const p of perturbations) checkModality(split, p);
  for (const p of perturbations) {
    if (p.kind !== 'noise' || p.rate === 0) continue;
    features[p.modality] = addNoise(features[p.modality]!, p.rate, deriveSeed(seed, 'noise', p.modality), split.lengths[p.modality]);
  }
  for (const p of perturbations) {
    if (p.kind !== 'missing' || p.rate === 0) continue;
    const f = features[p.modality]!;
    features[p.modality] = isTokens(f) ? dropTokens(f, p.rate, seed) : dropFrames(f, p.rate, seed, split.lengths[p.modality]);
  }
  return { ...split, features };
}
