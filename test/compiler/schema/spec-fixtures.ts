// Shared inputs for the schema-phase tests: a valid Self-MM-like spec and helpers to mutate and validate it.
// Phase 2 (schema) tests.

import { expect } from 'vitest';
import type { Diagnostic } from '../../../src/compiler/diagnostics/diagnostic.js';
import { SourceFile, type Position } from '../../../src/compiler/source/source-file.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';
import { validateSchema, type SchemaTarget } from '../../../src/compiler/schema/validate-schema.js';

export const FAKE_PATH = '/fake/pipelines/self_mm_sims.yaml';

export const VALID_SPEC = `version: 1
name: self_mm_sims
description: Self-MM on CH-SIMS (unaligned), MMSA's settings
dataset:
  name: sims
  file: unaligned_39
modalities:
  text:
    feature: text_bert
  audio:
    feature: audio
    lengths: audio_lengths
  vision:
    feature: vision
    lengths: vision_lengths
    preprocess: {seq_len: 55}
encoders:
  text:
    type: bert
    pretrained: bert-base-chinese
    finetune: true
  audio:
    type: lstm
    hidden: 16
    out: 16
    dropout: 0.1
  vision:
    type: lstm
    hidden: 32
    out: 32
    dropout: 0.1
fusion:
  type: concat
  inputs: [text, audio, vision]
heads:
  M:
    type: regression
    input: fusion
    hidden: [128]
    dropout: 0.1
  T:
    type: regression
    input: text
    hidden: [64]
  A:
    type: regression
    input: audio
    hidden: [16]
  V:
    type: regression
    input: vision
    hidden: [32]
tasks:
  main:
    type: l1
    head: M
    target: M
  ulgm:
    type: ulgm
    fusion_head: M
    heads: {text: T, audio: A, vision: V}
    H: 3.0
    from_epoch: 2
train:
  batch_size: 32
  grad_accum_steps: 4
  max_epochs: null
  optimizer:
    type: adam
    groups:
      - name: bert_decay
        params: ['encoders.text']
        lr: 5.0e-5
        weight_decay: 0.001
        no_decay: [bias, LayerNorm.weight]
      - name: audio
        params: ['encoders.audio', 'heads.A']
        lr: 0.005
        weight_decay: 0.001
      - name: rest
        params: ['*']
        lr: 0.001
  clip: null
  early_stop:
    metric: loss
    patience: 8
  select:
    metric: loss
    split: valid
eval:
  metrics: sims
  head: M
  splits: [valid, test]
seeds: [1111, 1112, 1113]
`;

/** The valid spec with one exact piece of text replaced (which must occur exactly once). */
export function mutate(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`test setup: '${from}' must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export interface Checked {
  file: SourceFile;
  diagnostics: Diagnostic[];
}

export function check(text: string, what: SchemaTarget = 'pipeline', path = FAKE_PATH): Checked {
  const file = new SourceFile(path, text);
  const parsed = parseYaml(file);
  expect(parsed.diagnostics).toEqual([]);
  return { file, diagnostics: validateSchema(parsed.tree!, what) };
}

export function at(c: Checked, d: Diagnostic): Position & { text: string } {
  return { ...c.file.positionAt(d.span.start), text: c.file.text.slice(d.span.start, d.span.end) };
}

/** 1-based line:col of the n-th (0-based) occurrence of a needle. */
export function posOf(text: string, needle: string, nth = 0): Position {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`test setup: '${needle}' occurs fewer than ${nth + 1} times`);
  }
  return new SourceFile('x', text).positionAt(i);
}
