// Test helpers for the data layer: fixture paths and hand-built IRs (input nodes typed by the compiler's own rule).

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputType } from '../../../src/compiler/ir/build-ir.js';
import type { Ir, IrNode, ResolvedDataset, ResolvedFeature } from '../../../src/compiler/ir/types.js';
import type { Modality, PipelineSpec } from '../../../src/compiler/spec/types.generated.js';

/** test/fixtures/pickles: MMSA-layout files written by CPython's pickle and numpy (see test/fixtures/README.md). */
export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/pickles');
export const fixture = (name: string): string => resolve(FIXTURES, name);

const SPAN: ResolvedDataset['span'] = { file: '<test>', start: 0, end: 0 };

export function sims(over: Partial<Record<string, ResolvedFeature>> = {}, T = 12, A = 20, V = 9): Record<string, ResolvedFeature> {
  const f: Record<string, ResolvedFeature> = {
    text: { key: 'text', shape: [T, 768], dtype: 'float' },
    text_bert: { key: 'text_bert', shape: [3, T], dtype: 'int' },
    audio: { key: 'audio', shape: [A, 33], dtype: 'float', lengths: 'audio_lengths' },
    vision: { key: 'vision', shape: [V, 709], dtype: 'float', lengths: 'vision_lengths' },
    raw_text: { key: 'raw_text', shape: [], dtype: 'str' },
    id: { key: 'id', shape: [], dtype: 'str' },
  };
  for (const [k, v] of Object.entries(over)) if (v) f[k] = v;
  return f;
}

export function mosi(aligned = false): Record<string, ResolvedFeature> {
  return {
    text: { key: 'text', shape: [10, 768], dtype: 'float' },
    text_bert: { key: 'text_bert', shape: [3, 10], dtype: 'int' },
    audio: { key: 'audio', shape: [aligned ? 10 : 30, 5], dtype: 'float', lengths: 'audio_lengths' },
    vision: { key: 'vision', shape: [aligned ? 10 : 40, 20], dtype: 'float', lengths: 'vision_lengths' },
    raw_text: { key: 'raw_text', shape: [], dtype: 'str' },
    id: { key: 'id', shape: [], dtype: 'str' },
  };
}

export function customDataset(path: string, features: Record<string, ResolvedFeature>, labels: Record<string, string>, extra: Partial<ResolvedDataset> = {}): ResolvedDataset {
  return {
    name: 'fixture',
    source: 'custom',
    path,
    aligned: false,
    splits: { train: 0, valid: 0, test: 0 },
    features,
    labels,
    task: 'regression',
    metrics: 'regression',
    span: SPAN,
    ...extra,
  };
}

export type ModalityInput = { feature: string; lengths?: string | null; align?: 'none' | 'avg_pool'; preprocess?: Partial<Modality['preprocess']>; missing?: Modality['missing'] };

/** An IR with input nodes only (typed by the compiler's inputType) and one task per label name in `targets`. */
export function makeIr(dataset: ResolvedDataset, modalities: Record<string, ModalityInput>, targets: string[] = ['M']): Ir {
  const mods: Record<string, Modality> = {};
  for (const [name, m] of Object.entries(modalities)) {
    const feat = dataset.features[m.feature];
    mods[name] = {
      feature: m.feature,
      lengths: m.lengths === undefined ? feat?.lengths ?? null : m.lengths,
      align: m.align ?? 'none',
      preprocess: { time_mean: false, seq_len: null, clamp_lengths: true, normalize: 'none', neg_inf_to_zero: m.feature === 'audio', ...m.preprocess },
      ...(m.missing ? { missing: m.missing } : {}),
    };
  }
  const spec = { modalities: mods } as unknown as PipelineSpec;
  const nodes: IrNode[] = Object.entries(mods).map(([name, m]) => {
    const output = inputType(m, dataset, spec);
    if (!output) throw new Error(`no input type for ${name}`);
    return { id: `modalities.${name}`, kind: 'input', name, type: m.feature, inputs: [], output, params: [], summary: '', config: { ...m }, span: SPAN };
  });
  return {
    pipeline: 'test',
    file: '<test>',
    dataset,
    nodes,
    tasks: targets.map((t) => ({ name: `t_${t}`, type: 'l1', heads: [t], targets: [t], weight: 1, validLoss: true, summary: '', hooks: [], config: {}, span: SPAN })),
    groups: [],
    schedule: {} as Ir['schedule'],
    totalParams: 0,
    trainableParams: 0,
  };
}
