// Built-in synthetic datasets (`dataset: {type: synthetic, like: ...}`): MMSA-shaped splits with a planted, learnable
// sentiment signal (strong in text, weaker in audio/vision), deterministic per seed. Phase 7 (execute): dataset loading.

import { MmsaError } from '../../errors.js';
import type { ResolvedDataset } from '../../compiler/ir/types.js';
import { LIKE, syntheticLayout, type LikeName, type SyntheticSettings } from '../../compiler/spec/synthetic-layout.js';
import { NDArray, type PyValue } from './pickle/read-pickle.js';
import { Rng, deriveSeed } from '../random.js';
import type { SplitName } from './types.js';

/** Label grid of each dataset (MOSI/SIMS: multiples of 0.2; MOSEI: of 1/3). */
const LABEL_STEP: Record<LikeName, number> = { mosi: 0.2, mosei: 1 / 3, sims: 0.2, simsv2: 0.2 };
/** Share of samples whose latent sentiment is exactly neutral (exact 0 labels matter for the Non0 metrics). */
const ZERO_SHARE = 0.08;
/** Amplitudes of the planted signal: [CLS] row, other text tokens, audio and vision signal channels. */
const AMP = { cls: 2.0, tok: 0.6, audio: 1.0, vision: 0.8 };
/**
 * Ids of ordinary word pieces drawn for text_bert: bert-base-uncased's whole words for English-like data, and for
 * Chinese-like data (SIMS) ids inside bert-base-chinese's 21128-entry vocabulary (its single characters).
 */
const WORD_IDS: Record<string, [number, number]> = { en: [1996, 29611], cn: [671, 7991] };
/** Polarity word pieces (bert-base-uncased ids, all below 21128) planted in text_bert / raw_text. */
const POS_WORDS: [number, string][] = [[2204, 'good'], [2307, 'great'], [3407, 'happy'], [2293, 'love']];
const NEG_WORDS: [number, string][] = [[2919, 'bad'], [9643, 'awful'], [6517, 'sad'], [5223, 'hate']];

const SPLIT_IDS: Record<SplitName, number> = { train: 1, valid: 2, test: 3 };
const STREAM = { latent: 1, text: 2, audio: 3, vision: 4, bert: 5 };

/** Reads the compiler's synthetic settings (defaults already filled) from a resolved dataset. */
export function syntheticSettingsOf(ds: ResolvedDataset): SyntheticSettings {
  const s = (ds.synthetic ?? {}) as Partial<SyntheticSettings> & Record<string, unknown>;
  const like = s.like;
  if (!like || !(like in LIKE)) {
    throw new MmsaError('MSA6026', `synthetic dataset '${ds.name}': unknown 'like' ${JSON.stringify(like)}`, { hint: `use one of ${Object.keys(LIKE).join(', ')}` });
  }
  const int = (v: unknown, dflt: number, what: string): number => {
    const x = v === undefined ? dflt : v;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new MmsaError('MSA6026', `synthetic dataset '${ds.name}': ${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return x;
  };
  const out: SyntheticSettings = {
    like,
    aligned: s.aligned ?? ds.aligned ?? false,
    n_train: int(s.n_train, ds.splits.train, 'n_train'),
    n_valid: int(s.n_valid, ds.splits.valid, 'n_valid'),
    n_test: int(s.n_test, ds.splits.test, 'n_test'),
    seed: int(s.seed, 0, 'seed'),
    noise: typeof s.noise === 'number' && s.noise >= 0 ? s.noise : 0.5,
  };
  if (s.seq_lens) out.seq_lens = s.seq_lens;
  if (s.dims) out.dims = s.dims;
  return out;
}

/** Rounds to the dataset's label grid inside its range (and cleans float dust: 0.6000000001 -> 0.6). */
function toGrid(x: number, lo: number, hi: number, step: number): number {
  const c = Math.min(hi, Math.max(lo, x));
  const v = Math.round(c / step) * step;
  return Number(Math.min(hi, Math.max(lo, v)).toFixed(6));
}

function normals(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** The fixed "world" of a seed, shared by all splits: projection directions and channel statistics. */
interface World {
  textDir: Float32Array;
  clsBias: Float32Array;
  audioMu: Float32Array;
  visionMu: Float32Array;
  audioGain: Float32Array;
  visionGain: Float32Array;
}

function makeWorld(seed: number, dims: { text: number; audio: number; vision: number }): World {
  const rng = new Rng(deriveSeed(seed, 0x77, 0));
  const textDir = normals(rng, dims.text);
  const clsBias = normals(rng, dims.text, 0.3);
  const audioMu = normals(rng, dims.audio, 0.5);
  const visionMu = normals(rng, dims.vision, 0.5);
  // A few channels carry the signal, with random signs and gains: learnable from the time mean or by an LSTM.
  const gains = (d: number, k: number): Float32Array => {
    const g = new Float32Array(d);
    for (let i = 0; i < Math.min(d, k); i++) g[i] = (rng.next() < 0.5 ? -1 : 1) * (0.6 + 0.4 * rng.next());
    return g;
  };
  return { textDir, clsBias, audioMu, visionMu, audioGain: gains(dims.audio, 3), visionGain: gains(dims.vision, 4) };
}

/**
 * Generates the three splits as MMSA feature-file dicts (file key -> array), only for the requested keys, so the
 * loader applies the same checks and preprocessing as to a real file. Every modality uses its own random stream per
 * split, so the data of one key never depends on which other keys were requested.
 */
export function generateSyntheticSplits(ds: ResolvedDataset, keys: Set<string>): Record<SplitName, Map<PyValue, PyValue>> {
  const s = syntheticSettingsOf(ds);
  const layout = syntheticLayout(s);
  const world = makeWorld(s.seed, layout.dims);
  const sizes: Record<SplitName, number> = { train: s.n_train, valid: s.n_valid, test: s.n_test };
  const out = {} as Record<SplitName, Map<PyValue, PyValue>>;
  for (const split of ['train', 'valid', 'test'] as const) out[split] = generateSplit(s, layout, world, split, sizes[split], keys);
  return out;
}

function generateSplit(s: SyntheticSettings, layout: ReturnType<typeof syntheticLayout>, world: World, split: SplitName, n: number, keys: Set<string>): Map<PyValue, PyValue> {
  const { seqLens, dims, facts } = layout;
  const [lo, hi] = facts.labelRange;
  const half = (hi - lo) / 2;
  const mid = (hi + lo) / 2;
  const step = LABEL_STEP[s.like];
  const noise = s.noise;
  const sid = SPLIT_IDS[split];
  const rngFor = (stream: number) => new Rng(deriveSeed(s.seed, sid, stream));
  const L = seqLens.text;

  // Latents: u in (-1, 1) is the true sentiment; each modality sees a perturbed copy (its unimodal sentiment).
  const lat = rngFor(STREAM.latent);
  const u = new Float64Array(n);
  const um = { T: new Float64Array(n), A: new Float64Array(n), V: new Float64Array(n) };
  const textLen = new Int32Array(n);
  const minText = Math.min(L, Math.max(3, Math.ceil(L * 0.4)));
  for (let i = 0; i < n; i++) {
    u[i] = lat.next() < ZERO_SHARE ? 0 : Math.tanh(0.9 * lat.normal());
    um.T[i] = u[i]! + 0.3 * noise * lat.normal();
    um.A[i] = u[i]! + 0.6 * noise * lat.normal();
    um.V[i] = u[i]! + 0.6 * noise * lat.normal();
    textLen[i] = lat.intIn(minText, L);
  }
  const clip1 = (x: number) => Math.min(1, Math.max(-1, x));

  const m = new Map<PyValue, PyValue>();
  const f32 = (shape: number[], data: Float32Array) => new NDArray('float32', '<f4', shape, data);
  const i32 = (shape: number[], data: Int32Array) => new NDArray('int32', '<i4', shape, data);

  for (const [name, key] of Object.entries(layout.labels)) {
    if (!keys.has(key)) continue;
    const src = name === 'M' ? u : um[name as 'T' | 'A' | 'V'];
    const lab = new Float32Array(n);
    for (let i = 0; i < n; i++) lab[i] = src[i] === 0 ? 0 : toGrid(mid + half * clip1(src[i]!), lo, hi, step);
    m.set(key, f32([n], lab));
  }

  if (keys.has('id')) m.set('id', new NDArray('str', '<U32', [n], Array.from({ length: n }, (_, i) => `synth_${s.like}_${split}_${Math.floor(i / 8)}$_$${i % 8}`)));

  if (keys.has('text')) {
    const rng = rngFor(STREAM.text);
    const D = dims.text;
    const a = new Float32Array(n * L * D);
    for (let i = 0; i < n; i++) {
      const ut = um.T[i]!;
      for (let t = 0; t < textLen[i]!; t++) {
        const o = (i * L + t) * D;
        // The [CLS] row carries the sentiment most clearly (demos read it); word rows carry it more weakly.
        const amp = t === 0 ? AMP.cls : AMP.tok;
        for (let j = 0; j < D; j++) a[o + j] = amp * ut * world.textDir[j]! + (t === 0 ? world.clsBias[j]! : 0) + noise * rng.normal();
      }
    }
    m.set('text', f32([n, L, D], a));
  }

  if (keys.has('text_bert') || keys.has('raw_text')) {
    const rng = rngFor(STREAM.bert);
    const [wordLo, wordHi] = WORD_IDS[facts.language] ?? WORD_IDS['en']!;
    const tok = new Int32Array(n * 3 * L);
    const texts: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = textLen[i]!;
      const base = i * 3 * L;
      const words: string[] = [];
      for (let t = 0; t < len; t++) {
        let id: number;
        if (t === 0) id = 101;
        else if (t === len - 1) id = 102;
        else if (rng.next() < 0.35 * Math.abs(um.T[i]!)) {
          const set = um.T[i]! > 0 ? POS_WORDS : NEG_WORDS;
          const w = set[rng.intIn(0, set.length - 1)]!;
          id = w[0];
          words.push(w[1]);
        } else {
          id = rng.intIn(wordLo, wordHi);
          words.push(`w${id}`);
        }
        tok[base + t] = id;
        tok[base + L + t] = 1;
      }
      texts.push(words.join(' '));
    }
    if (keys.has('text_bert')) m.set('text_bert', i32([n, 3, L], tok));
    if (keys.has('raw_text')) m.set('raw_text', new NDArray('str', '<U256', [n], texts));
  }

  const seqModality = (key: 'audio' | 'vision', lenKey: string, T: number, D: number, mu: Float32Array, gain: Float32Array, amp: number, lat: Float64Array, stream: number) => {
    if (!keys.has(key) && !keys.has(lenKey)) return;
    const rng = rngFor(stream);
    const lens = new Int32Array(n);
    const a = new Float32Array(n * T * D);
    const offset = new Float32Array(D);
    for (let i = 0; i < n; i++) {
      // Aligned files re-index frames onto the word pieces: [CLS], [SEP] and padding are zero frames.
      const first = s.aligned ? 1 : 0;
      const end = s.aligned ? Math.max(1, textLen[i]! - 1) : rng.intIn(Math.max(1, Math.ceil(T * 0.5)), T);
      lens[i] = s.aligned ? textLen[i]! : end;
      const sig = amp * lat[i]!;
      // A per-sample offset per channel (speaker / recording effects) does not average out over time, so the time
      // mean carries the sentiment only partly: audio and vision stay weaker than text.
      for (let j = 0; j < D; j++) offset[j] = 1.6 * noise * rng.normal();
      for (let t = first; t < end; t++) {
        const o = (i * T + t) * D;
        for (let j = 0; j < D; j++) a[o + j] = mu[j]! + offset[j]! + gain[j]! * sig + noise * rng.normal();
      }
    }
    if (keys.has(key)) m.set(key, f32([n, T, D], a));
    if (keys.has(lenKey)) m.set(lenKey, i32([n], lens));
  };
  seqModality('audio', 'audio_lengths', seqLens.audio, dims.audio, world.audioMu, world.audioGain, AMP.audio, um.A, STREAM.audio);
  seqModality('vision', 'vision_lengths', seqLens.vision, dims.vision, world.visionMu, world.visionGain, AMP.vision, um.V, STREAM.vision);
  return m;
}
