// Synthetic data of the shapes beyond sentiment clips, with a planted signal: depression-like interview sessions
// (thousands of frames, PHQ-8 0-24, train/dev/test as DAIC-WOZ) and binary humour / sarcasm with context sequences
// (UR-FUNNY / MUStARD-like). Written as MMSA-layout pickles, or as raw per-sample feature files plus a samples table
// for `mmsa data build`. Phase 7 (execute): data files for demos, tests and benchmarks.
//
// Depression (latent severity z ~ N(0, 1) per session):
//   PHQ-8 = clip(round(24 sigmoid(1.1 z - 0.9) + N(0, 1.5^2)), 0, 24) (skewed to low scores, about 1 in 4 >= 10);
//   vision (OpenFace-like AU intensities): the "smile" dims 0-1 have session mean 0.8 - 0.35 z;
//   audio (eGeMAPS-like, unnormalised): dim 0 (pitch, ~120 Hz) varies less with z (sd 20 (1 - 0.3 tanh z)), dim 1
//   (loudness, ~60 dB) has mean 60 - 3 z; pauses (silent frames, all audio dims 0) take a fraction sigmoid(0.6 z - 1.5);
//   text (per-utterance embeddings): a fixed direction carries 0.5 z; transcripts use cue words more often with z.
//   Frames follow an AR(1) process (rho 0.9) around the session means, so neighbouring frames are alike.
// Humour / sarcasm (binary, balanced):
//   humour: the punchline's text factor p and the context's c (both N(0, 1)); funny iff p c + 0.3 laugh + noise < 0
//   (the punchline turns the setup around), laugh a weak audio cue of the punchline;
//   sarcasm: the utterance's text polarity p_t and its audio-visual polarity p_av; sarcastic iff p_t p_av + 0.3 c_t
//   + noise < 0 (the words say one thing, the voice and face another), c_t the context's text factor.
//   Each utterance (punchline and every context sentence) has text, audio and vision frames; the context frames are
//   concatenated into context_text / context_audio / context_vision with their lengths.
//   Neither factor alone predicts the label (each gives 50%): only the product does, so a model must read the context
//   (humour) or both the words and the voice (sarcasm), and needs a few hundred training samples to learn the product;
//   the weak additive cue alone gives about 60% accuracy.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../random.js';
import { CONTEXT_SENTENCES, LIKE, type SyntheticLayout } from '../../compiler/spec/synthetic-layout.js';
import { NDArray, type PyValue } from './pickle/read-pickle.js';
import { int64Array, ndarray, writePickleFile, type PyWritable } from './pickle/write-pickle.js';
import { encodeNpy } from './build/write-npy.js';
import type { SplitName } from './types.js';

export type SessionVariant = 'depression' | 'humour' | 'sarcasm';

const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export interface SessionSynthOptions {
  variant: SessionVariant;
  /** Samples per split; defaults: DAIC-WOZ 107/35/47, UR-FUNNY 7614/980/994, MUStARD 414/138/138. */
  sizes?: [number, number, number];
  seed?: number;
  /** Frames per session (depression) or per utterance (humour / sarcasm): [min, max]. */
  frames?: [number, number];
  /** Text steps per session (utterances) or per utterance (words). */
  textLen?: number;
  textDim?: number;
  audioDim?: number;
  visionDim?: number;
  /** Context sentences per sample (humour / sarcasm). */
  contextSentences?: number;
  /** Label noise std (depression: PHQ points; binary: on the decision value). */
  noise?: number;
}

interface Preset {
  sizes: [number, number, number];
  frames: [number, number];
  textLen: number;
  textDim: number;
  audioDim: number;
  visionDim: number;
  noise: number;
}

/** Feature sizes of the dataset manifests, which the synthetic layouts share (compiler/spec/synthetic-layout.ts). */
function presetDims(v: SessionVariant): { textDim: number; audioDim: number; visionDim: number } {
  const d = LIKE[v].dims;
  return { textDim: d.text, audioDim: d.audio, visionDim: d.vision };
}

export const SESSION_PRESETS: Readonly<Record<SessionVariant, Preset>> = {
  // DAIC-WOZ (AVEC 2017 splits); eGeMAPS's 23 LLDs, OpenFace's 49 AU/pose/gaze columns; 10 frames/s, 7-33 min
  // sessions would be 4000-20000 frames, the default keeps them at 2000-6000 so a demo trains on a laptop.
  depression: { sizes: [107, 35, 47], frames: [2000, 6000], textLen: 60, ...presetDims('depression'), noise: 1.5 },
  // UR-FUNNY v2 (punchline + context), COVAREP 81, OpenFace 75 in its release.
  humour: { sizes: [7614, 980, 994], frames: [20, 60], textLen: 20, ...presetDims('humour'), noise: 0.3 },
  // MUStARD: 690 utterances, 60/20/20 here.
  sarcasm: { sizes: [414, 138, 138], frames: [20, 60], textLen: 20, ...presetDims('sarcasm'), noise: 0.3 },
};

/** One sample before padding: per modality frames x dims, the label, the raw text. */
export interface SynthSample {
  id: string;
  split: SplitName;
  label: number;
  text: string;
  features: Record<string, { data: Float32Array; frames: number; dims: number }>;
}

function unit(rng: Rng, d: number): Float64Array {
  const v = Float64Array.from({ length: d }, () => rng.normal());
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return v.map((x) => x / n);
}

/** frames x dims: AR(1) noise (rho) of unit variance around per-dim means `mu`, times per-dim `sd`. */
function arFrames(rng: Rng, frames: number, mu: ArrayLike<number>, sd: ArrayLike<number>, rho = 0.9): Float32Array {
  const d = mu.length;
  const out = new Float32Array(frames * d);
  const e = new Float64Array(d);
  const k = Math.sqrt(1 - rho * rho);
  for (let j = 0; j < d; j++) e[j] = rng.normal();
  for (let t = 0; t < frames; t++) {
    for (let j = 0; j < d; j++) {
      e[j] = rho * e[j]! + k * rng.normal();
      out[t * d + j] = mu[j]! + sd[j]! * e[j]!;
    }
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const CUES = ['tired', 'sleep', 'down', 'hopeless', 'alone'];
const WORDS = ['today', 'work', 'family', 'weekend', 'friends', 'music', 'travel', 'school', 'movie', 'dinner', 'city', 'morning'];

function depressionSamples(o: Required<Omit<SessionSynthOptions, 'contextSentences'>>): SynthSample[] {
  const rng = new Rng(o.seed);
  const uText = unit(rng, o.textDim);
  const out: SynthSample[] = [];
  let idx = 0;
  SPLITS.forEach((split, si) => {
    for (let i = 0; i < o.sizes[si]!; i++, idx++) {
      const z = rng.normal();
      const phq = Math.min(24, Math.max(0, Math.round(24 * sigmoid(1.1 * z - 0.9) + o.noise * rng.normal())));
      const frames = rng.intIn(o.frames[0], o.frames[1]);
      // Vision: AU intensities around 0.5, smile dims lower with severity, a per-session offset on the others.
      const vMu = Float64Array.from({ length: o.visionDim }, (_, j) => (j < 2 ? 0.8 - 0.35 * z : 0.5 + 0.3 * rng.normal()));
      const vision = arFrames(rng, frames, vMu, new Float64Array(o.visionDim).fill(0.4));
      // Audio: pitch (Hz) and loudness (dB) on their own scales, then spectral-like dims near 0; pauses are silent.
      const aMu = Float64Array.from({ length: o.audioDim }, (_, j) => (j === 0 ? 120 + 10 * rng.normal() : j === 1 ? 60 - 3 * z : 0.2 * rng.normal()));
      const aSd = Float64Array.from({ length: o.audioDim }, (_, j) => (j === 0 ? 20 * (1 - 0.3 * Math.tanh(z)) : j === 1 ? 4 : 1));
      const audio = arFrames(rng, frames, aMu, aSd, 0.8);
      const pause = sigmoid(0.6 * z - 1.5);
      for (let t = 0; t < frames; t++) if (rng.nextFloat() < pause) audio.fill(0, t * o.audioDim, (t + 1) * o.audioDim);
      // Text: one embedding per utterance; the session's utterance count varies.
      const utt = rng.intIn(Math.max(2, Math.floor(o.textLen / 2)), o.textLen);
      const text = new Float32Array(utt * o.textDim);
      for (let u = 0; u < utt; u++) for (let j = 0; j < o.textDim; j++) text[u * o.textDim + j] = 0.5 * z * uText[j]! * Math.sqrt(o.textDim) / 4 + rng.normal();
      const words: string[] = [];
      const pCue = 0.03 + 0.08 * sigmoid(1.5 * z);
      for (let w = 0; w < 40; w++) words.push(rng.nextFloat() < pCue ? CUES[rng.intIn(0, CUES.length - 1)]! : WORDS[rng.intIn(0, WORDS.length - 1)]!);
      out.push({
        id: `${300 + idx}_P`,
        split,
        label: phq,
        text: words.join(' '),
        features: { text: { data: text, frames: utt, dims: o.textDim }, audio: { data: audio, frames, dims: o.audioDim }, vision: { data: vision, frames, dims: o.visionDim } },
      });
    }
  });
  return out;
}

function binarySamples(o: Required<SessionSynthOptions>): SynthSample[] {
  const rng = new Rng(o.seed);
  const dir = { text: unit(rng, o.textDim), audio: unit(rng, o.audioDim), vision: unit(rng, o.visionDim) };
  const scale = (d: number) => Math.sqrt(d) / 2;
  /** One utterance: every modality's frames carry its factor along its direction (words: per-word vectors). */
  const utterance = (ft: number, fa: number, fv: number) => {
    const nT = rng.intIn(Math.max(2, Math.floor(o.textLen / 2)), o.textLen);
    const nF = rng.intIn(o.frames[0], o.frames[1]);
    const mk = (n: number, d: number, f: number, u: Float64Array) => {
      const x = new Float32Array(n * d);
      for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) x[t * d + j] = f * u[j]! * scale(d) + rng.normal();
      return x;
    };
    return { text: { data: mk(nT, o.textDim, ft, dir.text), frames: nT, dims: o.textDim }, audio: { data: mk(nF, o.audioDim, fa, dir.audio), frames: nF, dims: o.audioDim }, vision: { data: mk(nF, o.visionDim, fv, dir.vision), frames: nF, dims: o.visionDim } };
  };
  const cat = (parts: { data: Float32Array; frames: number; dims: number }[]) => {
    const frames = parts.reduce((a, p) => a + p.frames, 0);
    const data = new Float32Array(frames * parts[0]!.dims);
    let at = 0;
    for (const p of parts) {
      data.set(p.data, at);
      at += p.data.length;
    }
    return { data, frames, dims: parts[0]!.dims };
  };
  const out: SynthSample[] = [];
  let idx = 0;
  SPLITS.forEach((split, si) => {
    const n = o.sizes[si]!;
    // Balanced labels, as UR-FUNNY and MUStARD: draw until each class has its half.
    const want = [Math.floor(n / 2), n - Math.floor(n / 2)];
    while (want[0]! + want[1]! > 0) {
      const c = rng.normal();
      const p = rng.normal();
      const q = rng.normal();
      const v = o.noise * rng.normal();
      const decision = o.variant === 'humour' ? p * c + 0.3 * q + v : p * q + 0.3 * c + v;
      const label = decision < 0 ? 1 : 0;
      if (want[label] === 0) continue;
      want[label]!--;
      // humour: punchline text p, a weak laughter cue q in audio; sarcasm: text polarity p, audio-visual polarity q.
      const target = o.variant === 'humour' ? utterance(p, -q, 0.2 * rng.normal()) : utterance(p, q, q);
      const ctx = Array.from({ length: o.contextSentences }, () => utterance(c + 0.3 * rng.normal(), 0.3 * rng.normal(), 0.3 * rng.normal()));
      out.push({
        id: `${o.variant}_${String(idx++).padStart(5, '0')}`,
        split,
        label,
        text: `${o.variant === 'humour' ? 'punchline' : 'utterance'} ${idx}`,
        features: {
          text: target.text,
          audio: target.audio,
          vision: target.vision,
          context_text: cat(ctx.map((x) => x.text)),
          context_audio: cat(ctx.map((x) => x.audio)),
          context_vision: cat(ctx.map((x) => x.vision)),
        },
      });
    }
  });
  return out;
}

function resolved(o: SessionSynthOptions): Required<SessionSynthOptions> {
  const p = SESSION_PRESETS[o.variant];
  return {
    variant: o.variant,
    sizes: o.sizes ?? p.sizes,
    seed: o.seed ?? 1111,
    frames: o.frames ?? p.frames,
    textLen: o.textLen ?? p.textLen,
    textDim: o.textDim ?? p.textDim,
    audioDim: o.audioDim ?? p.audioDim,
    visionDim: o.visionDim ?? p.visionDim,
    contextSentences: o.contextSentences ?? CONTEXT_SENTENCES,
    noise: o.noise ?? p.noise,
  };
}

/** The samples of a variant, deterministic for a seed. */
export function generateSessionSamples(o: SessionSynthOptions): SynthSample[] {
  const r = resolved(o);
  return r.variant === 'depression' ? depressionSamples(r) : binarySamples(r);
}

/**
 * MMSA's layout: per split id, raw_text, each modality zero-padded to the longest sample with `<modality>_lengths`,
 * regression_labels (PHQ-8 score, or 0/1) and classification_labels (PHQ-8 >= 10, or 0/1) as float32.
 */
export function samplesToMmsa(samples: readonly SynthSample[]): Record<string, Record<string, PyWritable>> {
  const mods = Object.keys(samples[0]?.features ?? {});
  const longest = Object.fromEntries(mods.map((m) => [m, Math.max(1, ...samples.map((s) => s.features[m]!.frames))]));
  const out: Record<string, Record<string, PyWritable>> = {};
  const binary = samples.every((s) => s.label === 0 || s.label === 1);
  for (const split of SPLITS) {
    const ss = samples.filter((s) => s.split === split);
    const n = ss.length;
    const d: Record<string, PyWritable> = { id: ss.map((s) => s.id), raw_text: ss.map((s) => s.text) };
    for (const m of mods) {
      const T = longest[m]!;
      const D = ss[0]?.features[m]!.dims ?? samples[0]!.features[m]!.dims;
      d[m] = ndarray(padSamples(ss, m, T, D), [n, T, D]);
      d[`${m}_lengths`] = int64Array(ss.map((s) => s.features[m]!.frames));
    }
    d['regression_labels'] = ndarray(Float32Array.from(ss, (s) => s.label), [n]);
    d['classification_labels'] = ndarray(Float32Array.from(ss, (s) => (binary ? s.label : s.label >= 10 ? 1 : 0)), [n]);
    out[split] = d;
  }
  return out;
}

/**
 * The splits of `dataset: {type: synthetic, like: depression|humour|sarcasm}` as a feature file's dicts, padded to the
 * layout's fixed lengths (the shapes the compiler inferred), only the requested keys.
 */
export function sessionSplits(variant: SessionVariant, layout: SyntheticLayout, o: { sizes: [number, number, number]; seed: number; noise: number }, keys: Set<string>): Record<SplitName, Map<PyValue, PyValue>> {
  const { seqLens, dims } = layout;
  const samples = generateSessionSamples({
    variant,
    sizes: o.sizes,
    seed: o.seed,
    frames: [Math.max(1, Math.ceil(seqLens.audio / 2)), seqLens.audio],
    textLen: seqLens.text,
    textDim: dims.text,
    audioDim: dims.audio,
    visionDim: dims.vision,
    // `noise` 0.5 (the synthetic default) is the preset's label noise; other values scale it.
    noise: SESSION_PRESETS[variant].noise * (o.noise / 0.5),
  });
  const out = {} as Record<SplitName, Map<PyValue, PyValue>>;
  for (const split of SPLITS) {
    const ss = samples.filter((s) => s.split === split);
    const n = ss.length;
    const m = new Map<PyValue, PyValue>();
    if (keys.has('id')) m.set('id', new NDArray('str', '<U32', [n], ss.map((s) => s.id)));
    if (keys.has('raw_text')) m.set('raw_text', new NDArray('str', '<U256', [n], ss.map((s) => s.text)));
    if (keys.has('regression_labels')) m.set('regression_labels', new NDArray('float32', '<f4', [n], Float32Array.from(ss, (s) => s.label)));
    for (const [name, f] of Object.entries(layout.features)) {
      if (!f.lengths || !(keys.has(f.key) || keys.has(f.lengths))) continue;
      const [T, D] = f.shape as [number, number];
      m.set(f.key, new NDArray('float32', '<f4', [n, T, D], padSamples(ss, name, T, D)));
      m.set(f.lengths, new NDArray('int32', '<i4', [n], Int32Array.from(ss, (s) => s.features[name]!.frames)));
    }
    out[split] = m;
  }
  return out;
}

/** The samples' frames of one modality, zero-padded to T steps: [n, T, D] row-major. */
function padSamples(ss: readonly SynthSample[], m: string, T: number, D: number): Float32Array {
  const x = new Float32Array(ss.length * T * D);
  ss.forEach((s, i) => x.set(s.features[m]!.data.subarray(0, T * D), i * T * D));
  return x;
}

/** Generates and writes one MMSA-layout pickle (atomically); returns the bytes written. */
export function writeSynthSessions(path: string, o: SessionSynthOptions): number {
  return writePickleFile(path, samplesToMmsa(generateSessionSamples(o)));
}

function csvTable(header: string[], rows: (string | number)[][], sep: string): string {
  return `${header.join(sep)}\n${rows.map((r) => r.join(sep)).join('\n')}\n`;
}

/**
 * Raw per-sample files as feature extractors leave them, and the samples table `mmsa data build` reads: vision as
 * OpenFace CSVs (frame, face_id, timestamp, confidence, success, AU.._r), audio as openSMILE CSVs (`;`, name and
 * frameTime first), text (and context modalities) as .npy. Returns the samples table's path.
 */
export function writeSynthRawFeatures(dir: string, o: SessionSynthOptions): string {
  // The directory first: an unwritable place fails before minutes of generation.
  mkdirSync(join(dir, 'features'), { recursive: true });
  const samples = generateSessionSamples(o);
  const mods = Object.keys(samples[0]!.features);
  // A modality named text takes the `text` column: the transcript goes to `raw_text` (MMSA's key names).
  const lines: string[] = [`id,split,label,${mods.includes('text') ? 'raw_text' : 'text'},${mods.join(',')}`];
  for (const s of samples) {
    const cells: string[] = [];
    for (const m of mods) {
      const f = s.features[m]!;
      const rows = Array.from({ length: f.frames }, (_, t) => Array.from(f.data.subarray(t * f.dims, (t + 1) * f.dims), (v) => Number(v.toPrecision(6))));
      let file: string;
      if (m === 'vision') {
        file = `features/${s.id}_openface.csv`;
        const head = ['frame', ' face_id', ' timestamp', ' confidence', ' success', ...Array.from({ length: f.dims }, (_, j) => ` AU${String(j + 1).padStart(2, '0')}_r`)];
        writeFileSync(join(dir, file), csvTable(head, rows.map((r, t) => [t + 1, ' 0', ` ${(t * 0.1).toFixed(1)}`, ' 0.98', ' 1', ...r.map((v) => ` ${v}`)]), ','));
      } else if (m === 'audio') {
        file = `features/${s.id}_egemaps.csv`;
        const head = ['name', 'frameTime', ...Array.from({ length: f.dims }, (_, j) => (j === 0 ? 'F0semitoneFrom27.5Hz_sma3nz' : j === 1 ? 'Loudness_sma3' : `lld${j}_sma3`))];
        writeFileSync(join(dir, file), csvTable(head, rows.map((r, t) => ["'unknown'", (t * 0.1).toFixed(2), ...r]), ';'));
      } else {
        file = `features/${s.id}_${m}.npy`;
        writeFileSync(join(dir, file), encodeNpy(f.data, [f.frames, f.dims]));
      }
      cells.push(file);
    }
    lines.push([s.id, s.split === 'valid' ? 'dev' : s.split, String(s.label), `"${s.text.replace(/"/g, '""')}"`, ...cells].join(','));
  }
  const table = join(dir, 'samples.csv');
  writeFileSync(table, `${lines.join('\n')}\n`);
  return table;
}
