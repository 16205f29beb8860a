// Test helpers for the lowering: compile small YAML specs on synthetic data and build random batches/splits that
// match an IR's input shapes.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFile } from '../../../src/compiler/compile.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import type { Batch, SplitData } from '../../../src/runtime/data/types.js';
import { Rng } from '../../../src/runtime/nn/init.js';

/** Tiny synthetic layout shared by the specs below (sizes chosen so every test runs in well under a second). */
export const TINY = (like: string, extra = ''): string =>
  `dataset: {type: synthetic, like: ${like}, n_train: 12, n_valid: 4, n_test: 4, seed: 1, dims: {text: 12, audio: 5, vision: 7}, seq_lens: {text: 6, audio: 8, vision: 7}${extra}}`;

export function compileYaml(yaml: string, name = 'spec'): Ir {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-lower-'));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const r = compileFile(file);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.ir) throw new Error(`spec does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return r.ir;
}

export const SPECS = {
  self_mm: `version: 1
extends: self_mm
${TINY('mosi')}
modalities:
  text: {feature: text}
encoders:
  text: {type: precomputed, select: cls}
  audio: {type: lstm, hidden: 4, out: 4}
  vision: {type: lstm, hidden: 5, out: 4, bidirectional: true}
heads:
  M: {type: regression, input: fusion, hidden: [6, 6], dropout: 0.1}
  T: {type: regression, input: text, hidden: [4, 4], dropout: 0.1}
  A: {type: regression, input: audio, hidden: [6, 6]}
  V: {type: regression, input: vision, hidden: [6, 6]}
tasks:
  ulgm: {type: ulgm, H: 3.0}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: audio, params: [encoders.audio], lr: 5.0e-3, weight_decay: 1.0e-3}
      - {name: vision, params: [encoders.vision], lr: 5.0e-3, weight_decay: 1.0e-3, no_decay: [bias]}
      - {name: other, params: ['*'], lr: 2.0e-3, weight_decay: 1.0e-3}
`,
  lmf: `version: 1
extends: lmf
${TINY('sims')}
encoders:
  audio: {type: subnet, hidden: 4, dropout: 0.1}
  vision: {type: subnet, hidden: 5, dropout: 0.1}
  text: {type: text_lstm, hidden: 6, out: 3, dropout: 0.0}
fusion: {type: low_rank, inputs: [audio, vision, text], rank: 3, out: 1}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: factors, params: ['fusion:audio_factor', 'fusion:vision_factor', 'fusion:text_factor'], lr: 1.0e-2, weight_decay: 1.0e-4}
      - {name: frozen, params: ['fusion:fusion_weights', 'fusion:fusion_bias'], trainable: false}
      - {name: subnets, params: ['*'], lr: 1.0e-2, weight_decay: 1.0e-4}
`,
  tfn: `version: 1
extends: tfn
${TINY('mosi')}
encoders:
  audio: {type: subnet, hidden: 3, dropout: 0.2}
  vision: {type: subnet, hidden: 4, dropout: 0.2}
  text: {type: text_lstm, hidden: 5, out: 3, dropout: 0.0}
heads:
  M: {type: regression, input: fusion, hidden: [6, 6], dropout: 0.3, output_range: [-3, 3]}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: all, params: ['*'], lr: 2.0e-3, weight_decay: 0}
`,
  ef_lstm: `version: 1
extends: ef_lstm
${TINY('mosi', ', aligned: true')}
fusion: {type: early, inputs: [text, audio, vision], hidden: 6, layers: 2, dropout: 0.2, batchnorm: true}
heads:
  M: {type: regression, input: fusion, hidden: [6], dropout: 0.2, dropout_each: true}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: all, params: ['*'], lr: 2.0e-3, weight_decay: 1.0e-4}
`,
  lf_dnn: `version: 1
extends: lf_dnn
${TINY('sims')}
encoders:
  audio: {type: subnet, hidden: 4, dropout: 0.2}
  vision: {type: subnet, hidden: 5, dropout: 0.2}
  text: {type: text_lstm, hidden: 6, out: 3, dropout: 0.0}
heads:
  M: {type: regression, input: fusion, hidden: [6, 6], dropout: 0.2}
train:
  batch_size: 4
  optimizer:
    type: adamw
    groups:
      - {name: all, params: ['*'], lr: 2.0e-3, weight_decay: 1.0e-2}
`,
} as const;

export type Family = keyof typeof SPECS;

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** A split of n random samples shaped like the IR's inputs (features and lengths keyed by modality name). */
export function randomSplit(ir: Ir, n: number, seed: number, name: SplitData['name'] = 'train'): SplitData {
  const rng = new Rng(seed);
  const features: SplitData['features'] = {};
  const lengths: SplitData['lengths'] = {};
  for (const node of ir.nodes.filter((x) => x.kind === 'input')) {
    const shape = [n, ...node.output.shape.slice(1).map((d) => (typeof d === 'number' ? d : 1))];
    const size = shape.reduce((a, b) => a * b, 1);
    features[node.name] = { data: randomArray(rng, size), shape };
    if (node.output.lengths !== undefined) {
      const T = shape[1]!;
      lengths[node.name] = Int32Array.from({ length: n }, () => 1 + rng.int(T));
    }
  }
  const labels: SplitData['labels'] = {};
  const [lo, hi] = ir.dataset.labelRange ?? [-3, 3];
  for (const l of Object.keys(ir.dataset.labels)) {
    // Non-zero labels of both signs so ULGM has positive and negative centres.
    labels[l] = Float32Array.from({ length: n }, (_, i) => {
      const v = lo + (hi - lo) * rng.nextFloat();
      return Math.abs(v) < 0.05 ? (i % 2 === 0 ? 0.5 : -0.5) : v;
    });
  }
  return { name, n, ids: Array.from({ length: n }, (_, i) => `s${i}`), features, lengths, labels };
}

/** The rows `indexes` of a split as a batch. */
export function batchOf(split: SplitData, indexes: number[]): Batch {
  const B = indexes.length;
  const features: Batch['features'] = {};
  for (const [k, a] of Object.entries(split.features)) {
    const row = a.shape.slice(1).reduce((x, y) => x * y, 1);
    const data = new Float32Array(B * row);
    indexes.forEach((idx, i) => data.set((a.data as Float32Array).subarray(idx * row, (idx + 1) * row), i * row));
    features[k] = { data, shape: [B, ...a.shape.slice(1)] };
  }
  const lengths: Batch['lengths'] = {};
  for (const [k, l] of Object.entries(split.lengths)) lengths[k] = Int32Array.from(indexes, (i) => l[i]!);
  const labels: Batch['labels'] = {};
  for (const [k, l] of Object.entries(split.labels)) labels[k] = Float32Array.from(indexes, (i) => l[i]!);
  return { indexes: Int32Array.from(indexes), size: B, features, lengths, labels };
}
