// The layout (dims, sequence lengths, labels, metrics) of the built-in synthetic datasets, shared by the compiler's
// shape inference (phase 5) and the runtime's generator, so both always agree.

import type { ResolvedFeature } from '../ir/types.js';

export type LikeName = 'mosi' | 'mosei' | 'sims' | 'simsv2' | 'depression';

interface LikeFacts {
  dims: { text: number; audio: number; vision: number };
  labelRange: [number, number];
  metrics: string;
  language: string;
  unimodalLabels: boolean;
  /**
   * Interview sessions (runtime/data/synth-sessions.ts) instead of sentiment clips: text is one embedding per
   * utterance with its lengths, no BERT token ids, and these default sequence lengths.
   */
  sessions?: { text: number; audio: number; vision: number };
}

export const LIKE: Record<LikeName, LikeFacts> = {
  mosi: { dims: { text: 768, audio: 5, vision: 20 }, labelRange: [-3, 3], metrics: 'mosi', language: 'en', unimodalLabels: false },
  mosei: { dims: { text: 768, audio: 74, vision: 35 }, labelRange: [-3, 3], metrics: 'mosei', language: 'en', unimodalLabels: false },
  sims: { dims: { text: 768, audio: 33, vision: 709 }, labelRange: [-1, 1], metrics: 'sims', language: 'cn', unimodalLabels: true },
  simsv2: { dims: { text: 768, audio: 25, vision: 177 }, labelRange: [-1, 1], metrics: 'simsv2', language: 'cn', unimodalLabels: true },
  // DAIC-WOZ-like interviews as `mmsa data synth depression --small` writes them (eGeMAPS 23, OpenFace 49, PHQ-8).
  depression: { dims: { text: 16, audio: 23, vision: 49 }, labelRange: [0, 24], metrics: 'regression', language: 'en', unimodalLabels: false, sessions: { text: 30, audio: 300, vision: 300 } },
};

/** Small by default so demos train in seconds; override with `seq_lens`. */
export const SYNTHETIC_SEQ_LENS = { text: 16, audio: 32, vision: 24 };

export interface SyntheticSettings {
  like: LikeName;
  aligned: boolean;
  n_train: number;
  n_valid: number;
  n_test: number;
  seed: number;
  noise: number;
  seq_lens?: { text?: number; audio?: number; vision?: number };
  dims?: { text?: number; audio?: number; vision?: number };
}

export interface SyntheticLayout {
  seqLens: { text: number; audio: number; vision: number };
  dims: { text: number; audio: number; vision: number };
  features: Record<string, ResolvedFeature>;
  labels: Record<string, string>;
  facts: LikeFacts;
}

export function syntheticLayout(s: SyntheticSettings): SyntheticLayout {
  const facts = LIKE[s.like];
  const defaults = facts.sessions ?? SYNTHETIC_SEQ_LENS;
  const text = s.seq_lens?.text ?? defaults.text;
  // Aligned data has one audio/vision frame per text token, as MMSA's aligned_50 files.
  const audio = s.aligned ? text : (s.seq_lens?.audio ?? defaults.audio);
  const vision = s.aligned ? text : (s.seq_lens?.vision ?? defaults.vision);
  const dims = { text: s.dims?.text ?? facts.dims.text, audio: s.dims?.audio ?? facts.dims.audio, vision: s.dims?.vision ?? facts.dims.vision };
  const features: Record<string, ResolvedFeature> = {
    text: { key: 'text', shape: [text, dims.text], dtype: 'float' },
    text_bert: { key: 'text_bert', shape: [3, text], dtype: 'int' },
    audio: { key: 'audio', shape: [audio, dims.audio], dtype: 'float', lengths: 'audio_lengths' },
    vision: { key: 'vision', shape: [vision, dims.vision], dtype: 'float', lengths: 'vision_lengths' },
    raw_text: { key: 'raw_text', shape: [], dtype: 'str' },
    id: { key: 'id', shape: [], dtype: 'str' },
  };
  if (facts.sessions) {
    delete features['text_bert'];
    features['text'] = { ...features['text']!, lengths: 'text_lengths' };
  }
  const labels: Record<string, string> = { M: 'regression_labels' };
  if (facts.unimodalLabels) Object.assign(labels, { T: 'regression_labels_T', A: 'regression_labels_A', V: 'regression_labels_V' });
  return { seqLens: { text, audio, vision }, dims, features, labels, facts };
}
