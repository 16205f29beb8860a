// Normalization defaults that depend on the dataset or on other keys of the spec, written into the spanned tree.
// Phase 3 (normalize), after schema defaults (fill-defaults.ts) and dataset resolution.

import { basename, extname } from 'node:path';
import type { ResolvedDataset } from '../ir/types.js';
import type { Span } from '../source/source-file.js';
import { fromValue, getEntry, toValue, type JsonValue, type SpecMap, type SpecNode } from './spec-tree.js';
import type { PipelineSpec } from './types.generated.js';
import { componentOf } from '../../components/catalog.js';
import { encoderModality } from '../check/spec-graph.js';
import { metricDirection } from '../../core/metrics.js';

/** Whether a selection metric is minimised (losses and errors) or maximised (accuracies, F1, correlation). */
export function defaultMode(metric: string): 'min' | 'max' {
  return metricDirection(metric) ?? 'max';
}

/** The head evaluation scores when eval.head is not given: the first supervised task's, else the first head. */
export function defaultEvalHead(spec: PipelineSpec): string | undefined {
  for (const t of Object.values(spec.tasks)) {
    const head = componentOf('task', t)?.evalHead?.(t);
    if (head !== undefined) return head;
  }
  return Object.keys(spec.heads)[0];
}

/** Sets `path` to `value` unless present; records the path as defaulted. */
function setDefault(tree: SpecNode, path: string[], value: JsonValue, defaulted: string[]): SpecNode {
  if (tree.kind !== 'map' || path.length === 0) return tree;
  const [head, ...rest] = path as [string, ...string[]];
  const e = getEntry(tree, head);
  const at: Span = { ...tree.span, end: tree.span.start };
  if (rest.length === 0) {
    if (e) return tree;
    defaulted.push(path.join('.'));
    return { ...tree, entries: [...tree.entries, { key: head, keySpan: at, value: fromValue(value, at) }] } satisfies SpecMap;
  }
  if (!e) return tree;
  return { ...tree, entries: tree.entries.map((x) => (x === e ? { ...x, value: setDefault(x.value, rest, value, defaulted) } : x)) } satisfies SpecMap;
}

function setDefaultAt(tree: SpecNode, prefix: string[], path: string[], value: JsonValue, defaulted: string[]): SpecNode {
  const before = defaulted.length;
  const out = setDefault(tree, [...prefix, ...path], value, defaulted);
  // Record the full dotted path (setDefault records the path it was given).
  if (defaulted.length > before) defaulted[defaulted.length - 1] = [...prefix, ...path].join('.');
  return out;
}

/**
 * Defaults that depend on the dataset or on other keys (run after the schema defaults): pipeline name from the file,
 * modality lengths/alignment from the dataset, encoder packing from the modality, eval metrics/head, and model
 * selection following early stopping. Filled paths are appended to `defaulted`.
 */
export function applySemanticDefaults(tree: SpecNode, dataset: ResolvedDataset | undefined, file: string, defaulted: string[]): SpecNode {
  const spec = toValue(tree) as unknown as PipelineSpec;
  let t = tree;
  if (!spec.name) {
    t = replaceScalar(t, ['name'], basename(file, extname(file)));
  }
  for (const [name, m] of Object.entries(spec.modalities)) {
    const feat = dataset?.features[m.feature];
    if (m.lengths === undefined) t = setDefaultAt(t, ['modalities', name], ['lengths'], feat?.lengths ?? null, defaulted);
    if (m.aligned === undefined && dataset) t = setDefaultAt(t, ['modalities', name], ['aligned'], m.align === 'avg_pool' ? true : dataset.aligned, defaulted);
    if (m.preprocess.neg_inf_to_zero === undefined) t = setDefaultAt(t, ['modalities', name, 'preprocess'], ['neg_inf_to_zero'], m.feature === 'audio', defaulted);
  }
  for (const [name, e] of Object.entries(spec.encoders)) {
    // Defaults the encoder derives from the modality it reads (lstm/gru: pack by lengths when there are some).
    const extra = componentOf('encoder', e)?.defaults?.(e, { modality: spec.modalities[encoderModality(name, e)], dataset }) ?? {};
    for (const [key, value] of Object.entries(extra)) {
      if ((e as unknown as Record<string, unknown>)[key] === undefined) t = setDefaultAt(t, ['encoders', name], [key], value as JsonValue, defaulted);
    }
  }
  if (spec.eval.metrics === undefined && dataset) t = setDefaultAt(t, ['eval'], ['metrics'], dataset.metrics as JsonValue, defaulted);
  if (spec.eval.head === undefined) {
    const head = defaultEvalHead(spec);
    if (head) t = setDefaultAt(t, ['eval'], ['head'], head, defaulted);
  }
  // Model selection follows early stopping unless the spec says otherwise.
  const es = spec.train.early_stop;
  if (defaulted.includes('train.select')) {
    t = replaceScalar(t, ['train', 'select', 'metric'], es.metric);
    t = replaceScalar(t, ['train', 'select', 'split'], es.split);
    t = replaceScalar(t, ['train', 'select', 'min_delta'], es.min_delta);
    if (es.mode) t = setDefaultAt(t, ['train', 'select'], ['mode'], es.mode, defaulted);
  }
  if (es.mode === undefined) t = setDefaultAt(t, ['train', 'early_stop'], ['mode'], defaultMode(es.metric), defaulted);
  const sel = toValue(t) as unknown as PipelineSpec;
  if (sel.train.select.mode === undefined) t = setDefaultAt(t, ['train', 'select'], ['mode'], defaultMode(sel.train.select.metric), defaulted);
  return t;
}

function replaceScalar(tree: SpecNode, path: string[], value: JsonValue): SpecNode {
  if (tree.kind !== 'map' || path.length === 0) return tree;
  const [head, ...rest] = path as [string, ...string[]];
  const e = getEntry(tree, head);
  if (!e) {
    const at: Span = { ...tree.span, end: tree.span.start };
    return rest.length === 0 ? { ...tree, entries: [...tree.entries, { key: head, keySpan: at, value: fromValue(value, at) }] } : tree;
  }
  const value2 = rest.length === 0 ? fromValue(value, e.value.span) : replaceScalar(e.value, rest, value);
  return { ...tree, entries: tree.entries.map((x) => (x === e ? { ...x, value: value2 } : x)) };
}
