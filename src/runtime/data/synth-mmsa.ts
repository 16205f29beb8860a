// MMSA-layout synthetic feature files (like MOSI/Processed/unaligned_50.pkl) with a planted, learnable sentiment signal,
// written as pickles that MMSA's own loader reads, for benchmarks and tests. Phase 7 (execute): data files.
//
// Layout per split (train / valid / test), as MMSA's README documents its feature files:
//   raw_text list[str] (N), audio float32 (N, La, Da), vision float32 (N, Lv, Dv), id list[str] "video$_$clip",
//   text float32 (N, Lt, 768) "BERT features", text_bert int64 (N, 3, Lt) ids / mask / segments,
//   audio_lengths and vision_lengths int64 (N), regression_labels float32 (N), classification_labels float32 0/1/2,
//   annotations list[str] Negative/Neutral/Positive, and for the SIMS variant regression_labels_T/A/V.
//
// Planted signal, computed from the features as stored:
//   zT = U_T^T text[:, 0, :] / a_cls (4 text factors from [CLS]); zA, zV = B^T mean over valid frames (2 factors each)
//   s  = tanh(1.5 zT1) + 0.5 tanh(zT2) + 0.3 zT3 zT4                (strong, text)
//      + 0.35 tanh(1.5 zA1) + 0.2 zA1 zA2                           (weak, audio)
//      + 0.35 tanh(1.5 zV1) + 0.15 (zV2^2 - 1)                      (weak, vision)  + N(0, noise^2)
//   label = round(clip(k s, -R, R) / step) * step, k fixed on the train split so that std(k s) = label_std
// (MOSI: R = 3, step 0.2, std 1.5, so about 5% of the labels are exactly 0 and Has0 / Non0 metrics differ). The SIMS
// variant adds unimodal labels from single modalities (T ~ s_T, A ~ 2.5 s_A, V ~ 2.5 s_V, half the noise). Tokens
// other than [CLS] (words, [SEP] and, as a real BERT's outputs at [PAD] still attend to the sentence, [PAD]) carry the
// text factors at half amplitude, so models that read the whole padded sequence see the signal too; token ids carry a
// weak lexical cue for zT1 (ids 2000-2999 "good", 3000-3999 "bad"); other words are ids from 4000 up to the variant's
// vocabulary (bert-base-uncased's 30522 ids for MOSI / MOSEI, bert-base-chinese's 21128 for SIMS). bertVocab,
// bertCueRate and bertCueWords move the cue into a small BERT's vocabulary and make it strong enough for a randomly
// initialised one to learn.
//
// This is the same layout and planted signal as the Python generator the benchmarks' reference timings were first
// taken on; the numbers differ (another random generator), the statistics do not.

import { Rng } from '../random.js';
import { roundHalfEven } from '../metrics/numeric.js';
import { int64Array, ndarray, writePickleFile, type PyWritable } from './pickle/write-pickle.js';

export type SynthVariant = 'mosi' | 'mosei' | 'sims';

interface Preset {
  sizes: [number, number, number];
  textLen: number;
  textDim: number;
  audioLen: number;
  audioDim: number;
  visionLen: number;
  visionDim: number;
  labelRange: number;
  labelStep: number;
  labelStd: number;
  unimodal: boolean;
  /** Largest word-piece id drawn for text_bert: below the vocabulary of the BERT the dataset is used with. */
  maxWordId: number;
}

/**
 * Sizes and dims of MMSA's datasets: `config/config_regression.json` (datasetCommonParams: train_samples,
 * feature_dims); sequence lengths as the real unaligned files hold them (MOSI audio 375 x 5, vision 500 x 20: the ALMT
 * entry's "feature_length" in the same config; `seq_lens` there is overwritten by the loader). Valid / test sizes are
 * the datasets' usual splits.
 */
export const SYNTH_PRESETS: Readonly<Record<SynthVariant, Preset>> = {
  mosi: { sizes: [1284, 229, 686], textLen: 50, textDim: 768, audioLen: 375, audioDim: 5, visionLen: 500, visionDim: 20, labelRange: 3, labelStep: 0.2, labelStd: 1.5, unimodal: false, maxWordId: 29999 },
  mosei: { sizes: [16326, 1871, 4659], textLen: 50, textDim: 768, audioLen: 500, audioDim: 74, visionLen: 500, visionDim: 35, labelRange: 3, labelStep: 1 / 3, labelStd: 1.1, unimodal: false, maxWordId: 29999 },
  sims: { sizes: [1368, 456, 457], textLen: 39, textDim: 768, audioLen: 400, audioDim: 33, visionLen: 55, visionDim: 709, labelRange: 1, labelStep: 0.2, labelStd: 0.5, unimodal: true, maxWordId: 21127 },
};

/** Split sizes of `--small`: enough to train a few steps in a test. */
export const SYNTH_SMALL_SIZES: [number, number, number] = [64, 16, 32];

export interface SynthOptions {
  variant?: SynthVariant;
  /** Samples per split (train, valid, test); default the preset's. */
  sizes?: [number, number, number];
  seed?: number;
  /** Word-aligned variant (aligned_50.pkl): audio and vision lengths equal the text length. */
  aligned?: boolean;
  /** Label noise std before scaling (default 0.40). */
  noise?: number;
  textLen?: number;
  audioLen?: number;
  visionLen?: number;
  /** Feature dims (default the preset's; small dims keep test files small). */
  textDim?: number;
  audioDim?: number;
  visionDim?: number;
  /**
   * Vocabulary size of a small BERT the file is meant for (e.g. 2048): text_bert's word ids are drawn below it, the
   * cue words from two bands of its ids instead of 2000-3999 (see cueBands). Other arrays are unchanged.
   */
  bertVocab?: number;
  /**
   * Strength of the lexical cue: each word is a "good" id with probability bertCueRate * sigmoid(2 zT1), a "bad" id
   * with bertCueRate * sigmoid(-2 zT1) (default 0.15, a weak cue). A randomly initialised small BERT fine-tuned at
   * MMSA's learning rates (1e-5 to 1e-4) does not pick up the default cue within its early-stopping window; 0.5
   * makes about half of the words cue words. The random draws are the same for any rate, so only text_bert and
   * raw_text change.
   */
  bertCueRate?: number;
  /**
   * Distinct ids per cue band (default: the whole band, see cueBands). Few ids (e.g. 4) are each seen hundreds of
   * times per epoch, so a model whose word embeddings are frozen (CENET) still separates them in its layers.
   */
  bertCueWords?: number;
}

/**
 * Word-id bands of text_bert: "good" and "bad" cue words and the other words. Without a vocabulary the bert-base
 * bands (2000-2999, 3000-3999, 4000 up); with a small one (V ids), ids below 1000 stay unused as in BERT's vocabulary
 * ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102) and each cue band takes a tenth of the ids 1000..V-1 (V = 2048: good
 * 1000-1103, bad 1104-1207, other words 1208-2047), so every cue id is seen often enough for a small BERT to learn it.
 */
export function cueBands(maxWordId: number, bertVocab?: number): { good: [number, number]; bad: [number, number]; other: [number, number] } {
  if (bertVocab === undefined) return { good: [2000, 2999], bad: [3000, 3999], other: [4000, maxWordId] };
  if (!Number.isInteger(bertVocab) || bertVocab < 1100) throw new RangeError(`bertVocab must be an integer of at least 1100 (ids 1000 up carry the words), got ${bertVocab}`);
  const k = Math.floor((bertVocab - 1000) / 10);
  return { good: [1000, 1000 + k - 1], bad: [1000 + k, 1000 + 2 * k - 1], other: [1000 + 2 * k, bertVocab - 1] };
}

/** Checks the cue options and returns the bands with each cue band cut to its first `cueWords` ids. */
function checkCue(bands: ReturnType<typeof cueBands>, cueRate: number, cueWords?: number): ReturnType<typeof cueBands> {
  if (!(cueRate >= 0 && cueRate <= 1)) throw new RangeError(`bertCueRate must lie in [0, 1] (a probability scale), got ${cueRate}`);
  if (cueWords === undefined) return bands;
  const width = bands.good[1] - bands.good[0] + 1;
  if (!Number.isInteger(cueWords) || cueWords < 1 || cueWords > width) throw new RangeError(`bertCueWords must be an integer from 1 to ${width} (the cue band's width), got ${cueWords}`);
  return { good: [bands.good[0], bands.good[0] + cueWords - 1], bad: [bands.bad[0], bands.bad[0] + cueWords - 1], other: bands.other };
}

const K_T = 4;
const K_A = 2;
const K_V = 2;
const A_CLS = 1.5;
const A_TOK = 0.75;
const SIGMA_TOK = 0.3;
const SIGMA_FRAME = 1.0;
const SIGMA_NUIS = 0.5;
const CLS_ID = 101;
const SEP_ID = 102;
const PAD_ID = 0;
const SPLITS = ['train', 'valid', 'test'] as const;

/** A rows x cols matrix (row-major) with orthonormal columns: Gram-Schmidt on Gaussian columns. */
function orthonormal(rng: Rng, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const v = new Float64Array(rows);
    for (let i = 0; i < rows; i++) v[i] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += v[i]! * m[i * cols + k]!;
        for (let i = 0; i < rows; i++) v[i]! -= dot * m[i * cols + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < rows; i++) m[i * cols + j] = v[i]! / norm;
  }
  return m;
}

function gaussians(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

function signalParts(zT: Float64Array, zA: Float64Array, zV: Float64Array, n: number): { t: Float64Array; a: Float64Array; v: Float64Array } {
  const t = new Float64Array(n);
  const a = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const T = (k: number) => zT[i * K_T + k]!;
    t[i] = Math.tanh(1.5 * T(0)) + 0.5 * Math.tanh(T(1)) + 0.3 * T(2) * T(3);
    a[i] = 0.35 * Math.tanh(1.5 * zA[i * K_A]!) + 0.2 * zA[i * K_A]! * zA[i * K_A + 1]!;
    v[i] = 0.35 * Math.tanh(1.5 * zV[i * K_V]!) + 0.15 * (zV[i * K_V + 1]! ** 2 - 1);
  }
  return { t, a, v };
}

/** Clip to [-R, R], round to the label grid (half to even, as numpy), clean -0 and float dust, as float32. */
function quantize(x: Float64Array, range: number, step: number): Float32Array {
  return Float32Array.from(x, (v) => {
    const c = Math.min(range, Math.max(-range, v));
    let q = roundHalfEven(c / step) * step;
    if (Math.abs(q) < 1e-6) q = 0;
    return Math.min(range, Math.max(-range, q));
  });
}

function std(x: Float64Array): number {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  return Math.sqrt(s / x.length);
}

interface SplitOut {
  split: Record<string, PyWritable>;
  raw: Record<'M' | 'T' | 'A' | 'V', Float64Array>;
}

interface Dims {
  lt: number;
  dt: number;
  la: number;
  da: number;
  lv: number;
  dv: number;
  maxWordId: number;
  bertVocab?: number;
  cueRate: number;
  cueWords?: number;
}

interface World {
  U_T: Float64Array;
  padVec: Float64Array;
  sepVec: Float64Array;
  B_A: Float64Array;
  B_V: Float64Array;
}

function makeSplit(rng: Rng, w: World, d: Dims, n: number, aligned: boolean, noise: number, start: number): SplitOut {
  const { lt, dt, da, dv } = d;
  const la = aligned ? lt : d.la;
  const lv = aligned ? lt : d.lv;
  const fT = gaussians(rng, n * K_T);
  const fA = gaussians(rng, n * K_A);
  const fV = gaussians(rng, n * K_V);

  // One utterance duration drives all three sequence lengths.
  const tLen = new Int32Array(n);
  const aLen = new Int32Array(n);
  const vLen = new Int32Array(n);
  const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  for (let i = 0; i < n; i++) {
    const dur = rng.uniform(0.2, 1.0);
    tLen[i] = clip(roundHalfEven(6 + dur * (lt - 6) + 2 * rng.normal()), Math.min(4, lt), lt);
    aLen[i] = aligned ? tLen[i]! : clip(roundHalfEven(dur * la * rng.uniform(0.85, 1.0)), Math.min(10, la), la);
    vLen[i] = aligned ? tLen[i]! : clip(roundHalfEven(dur * lv * rng.uniform(0.85, 1.0)), Math.min(10, lv), lv);
  }

  // Text features: [CLS] / words / [SEP] / [PAD].
  const text = new Float32Array(n * lt * dt);
  const sigT = new Float64Array(dt);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < dt; c++) {
      let s = 0;
      for (let k = 0; k < K_T; k++) s += fT[i * K_T + k]! * w.U_T[c * K_T + k]!;
      sigT[c] = s;
    }
    for (let p = 0; p < lt; p++) {
      const base = (i * lt + p) * dt;
      const valid = p < tLen[i]!;
      const isSep = p === tLen[i]! - 1;
      for (let c = 0; c < dt; c++) {
        const nz = rng.normal() * SIGMA_TOK;
        let x: number;
        if (!valid) x = w.padVec[c]! + A_TOK * sigT[c]! + 0.5 * nz;
        else if (p === 0) x = nz + A_CLS * sigT[c]!;
        else x = nz + A_TOK * sigT[c]! + (isSep ? w.sepVec[c]! : 0);
        text[base + c] = x;
      }
    }
  }

  // text_bert (N, 3, Lt): token ids with a lexical cue, attention mask, segment ids.
  const bert = new BigInt64Array(n * 3 * lt);
  const bands = checkCue(cueBands(d.maxWordId, d.bertVocab), d.cueRate, d.cueWords);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const pPos = d.cueRate / (1 + Math.exp(-2 * fT[i * K_T]!));
    const pNeg = d.cueRate / (1 + Math.exp(2 * fT[i * K_T]!));
    const toks: string[] = [];
    for (let p = 0; p < lt; p++) {
      const u = rng.nextFloat();
      let id = u < pPos ? rng.intIn(...bands.good) : u < pPos + pNeg ? rng.intIn(...bands.bad) : rng.intIn(...bands.other);
      const valid = p < tLen[i]!;
      if (p === 0) id = CLS_ID;
      else if (p === tLen[i]! - 1) id = SEP_ID;
      else if (valid) toks.push(id >= bands.good[0] && id <= bands.good[1] ? 'good' : id >= bands.bad[0] && id <= bands.bad[1] ? 'bad' : `w${id}`);
      if (!valid) id = PAD_ID;
      bert[(i * 3) * lt + p] = BigInt(id);
      bert[(i * 3 + 1) * lt + p] = valid ? 1n : 0n;
    }
    words.push(toks.join(' '));
  }

  // Audio / vision frames, zero after the length; returns the mean over valid frames.
  const frames = (f: Float64Array, k: number, B: Float64Array, L: number, D: number, lengths: Int32Array) => {
    const x = new Float32Array(n * L * D);
    const mean = new Float64Array(n * D);
    const mu = new Float64Array(D);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < D; c++) {
        let s = rng.normal() * SIGMA_NUIS;
        for (let j = 0; j < k; j++) s += f[i * k + j]! * B[c * k + j]!;
        mu[c] = s;
      }
      for (let t = 0; t < lengths[i]!; t++) {
        for (let c = 0; c < D; c++) {
          const v = Math.fround(rng.normal() * SIGMA_FRAME + mu[c]!);
          x[(i * L + t) * D + c] = v;
          mean[i * D + c]! += v;
        }
      }
      for (let c = 0; c < D; c++) mean[i * D + c]! /= lengths[i]!;
    }
    return { x, mean };
  };
  const audio = frames(fA, K_A, w.B_A, la, da, aLen);
  const vision = frames(fV, K_V, w.B_V, lv, dv, vLen);

  // Latent factors read back from the stored features (B has orthonormal columns: pinv = B^T).
  const project = (rows: (i: number, c: number) => number, M: Float64Array, D: number, k: number, scale: number) => {
    const z = new Float64Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += rows(i, c) * M[c * k + j]!;
      z[i * k + j] = s / scale;
    }
    return z;
  };
  const zT = project((i, c) => text[i * lt * dt + c]!, w.U_T, dt, K_T, A_CLS);
  const zA = project((i, c) => audio.mean[i * da + c]!, w.B_A, da, K_A, 1);
  const zV = project((i, c) => vision.mean[i * dv + c]!, w.B_V, dv, K_V, 1);
  const s = signalParts(zT, zA, zV, n);
  const eps = () => gaussians(rng, n);
  const e0 = eps();
  const e1 = eps();
  const e2 = eps();
  const e3 = eps();
  const raw = {
    M: Float64Array.from(s.t, (v, i) => v + s.a[i]! + s.v[i]! + noise * e0[i]!),
    T: Float64Array.from(s.t, (v, i) => v + 0.5 * noise * e1[i]!),
    A: Float64Array.from(s.a, (v, i) => 2.5 * v + 0.5 * noise * e2[i]!),
    V: Float64Array.from(s.v, (v, i) => 2.5 * v + 0.5 * noise * e3[i]!),
  };
  const ids = Array.from({ length: n }, (_, i) => `synth${String(Math.floor((start + i) / 5)).padStart(5, '0')}$_$${((start + i) % 5) + 1}`);
  return {
    split: {
      raw_text: words,
      audio: ndarray(audio.x, [n, la, da]),
      vision: ndarray(vision.x, [n, lv, dv]),
      id: ids,
      text: ndarray(text, [n, lt, dt]),
      text_bert: ndarray(bert, [n, 3, lt]),
      audio_lengths: int64Array(aLen),
      vision_lengths: int64Array(vLen),
    },
    raw,
  };
}

/** The dict of splits MMSA's loader reads, deterministic for a seed. */
export function generateSynthMmsa(o: SynthOptions = {}): Record<string, Record<string, PyWritable>> {
  const variant = o.variant ?? 'mosi';
  const p = SYNTH_PRESETS[variant];
  const d: Dims = {
    lt: o.textLen ?? p.textLen,
    dt: o.textDim ?? p.textDim,
    la: o.audioLen ?? p.audioLen,
    da: o.audioDim ?? p.audioDim,
    lv: o.visionLen ?? p.visionLen,
    dv: o.visionDim ?? p.visionDim,
    maxWordId: p.maxWordId,
    ...(o.bertVocab !== undefined ? { bertVocab: o.bertVocab } : {}),
    cueRate: o.bertCueRate ?? 0.15,
    ...(o.bertCueWords !== undefined ? { cueWords: o.bertCueWords } : {}),
  };
  checkCue(cueBands(d.maxWordId, d.bertVocab), d.cueRate, d.cueWords); // bad cue options fail before any work
  const rng = new Rng(o.seed ?? 1111);
  const w: World = {
    U_T: orthonormal(rng, d.dt, K_T),
    padVec: gaussians(rng, d.dt, 0.3),
    sepVec: gaussians(rng, d.dt, 0.3),
    B_A: orthonormal(rng, d.da, K_A),
    B_V: orthonormal(rng, d.dv, K_V),
  };
  const sizes = o.sizes ?? p.sizes;
  const parts: Record<string, SplitOut> = {};
  let start = 0;
  SPLITS.forEach((name, i) => {
    parts[name] = makeSplit(rng, w, d, sizes[i]!, o.aligned ?? false, o.noise ?? 0.4, start);
    start += sizes[i]!;
  });
  // One label scale per label, fixed on the train split.
  const scale = (m: 'M' | 'T' | 'A' | 'V') => p.labelStd / Math.max(std(parts['train']!.raw[m]), 1e-6);
  const out: Record<string, Record<string, PyWritable>> = {};
  for (const name of SPLITS) {
    const { split, raw } = parts[name]!;
    const y = quantize(Float64Array.from(raw.M, (v) => v * scale('M')), p.labelRange, p.labelStep);
    split['regression_labels'] = ndarray(y, [y.length]);
    split['classification_labels'] = ndarray(Float32Array.from(y, (v) => (v < 0 ? 0 : v > 0 ? 2 : 1)), [y.length]);
    split['annotations'] = Array.from(y, (v) => (v < 0 ? 'Negative' : v > 0 ? 'Positive' : 'Neutral'));
    if (p.unimodal) {
      for (const m of ['T', 'A', 'V'] as const) {
        const k = scale(m);
        const ym = quantize(Float64Array.from(raw[m], (v) => v * k), p.labelRange, p.labelStep);
        split[`regression_labels_${m}`] = ndarray(ym, [ym.length]);
      }
    }
    out[name] = split;
  }
  return out;
}

/** Generates and writes one file (atomically); returns the bytes written. */
export function writeSynthMmsa(path: string, o: SynthOptions = {}): number {
  return writePickleFile(path, generateSynthMmsa(o));
}
